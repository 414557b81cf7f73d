import { CORE, isAlreadyExists, type KubeObject } from '../../kube/client.js';
import { recordEvent, updateStatus, type OperatorContext } from '../context.js';
import type { Operand } from './operands.js';

const contentOf = (o: KubeObject | undefined) => JSON.stringify({ data: o?.data ?? {} });

/**
 * library-go's revision controller: when the revisioned inputs differ from the latest revision's
 * copies, copy them to `<name>-<N+1>` and only then raise latestAvailableRevision. A crash between
 * the two steps leaves copies that the next sync finds and reuses.
 */
export async function syncRevisions(ctx: OperatorContext, operand: Operand): Promise<void> {
  const op = await ctx.kube.get(operand.operator, 'cluster');
  const latest: number = op.status?.latestAvailableRevision ?? 0;
  const sources = await Promise.all(operand.revisioned.map((r) => ctx.kube.getOrUndefined(CORE(r.resource, operand.namespace), r.name)));
  if (sources.some((s) => s === undefined)) return; // inputs not written yet
  if (latest > 0) {
    const copies = await Promise.all(operand.revisioned.map((r) => ctx.kube.getOrUndefined(CORE(r.resource, operand.namespace), `${r.name}-${latest}`)));
    if (copies.every((c, i) => c && contentOf(c) === contentOf(sources[i]))) return;
  }
  const next = latest + 1;
  for (const [i, r] of operand.revisioned.entries()) {
    const src = sources[i]!;
    const copy: KubeObject = {
      apiVersion: 'v1',
      kind: r.resource === 'secrets' ? 'Secret' : 'ConfigMap',
      metadata: { name: `${r.name}-${next}`, namespace: operand.namespace, labels: { revision: String(next), 'etcd-ops.io/operand': operand.name } },
      ...(r.resource === 'secrets' ? { type: 'Opaque' } : {}),
      data: src.data ?? {},
    };
    const ref = CORE(r.resource, operand.namespace);
    const existing = await ctx.kube.getOrUndefined(ref, copy.metadata.name);
    if (existing) await ctx.kube.update(ref, { ...copy, metadata: { ...copy.metadata, resourceVersion: existing.metadata.resourceVersion } });
    else await ctx.kube.create(ref, copy);
  }
  await upsertRevisionStatus(ctx, operand, next);
  await updateStatus(ctx, operand.operator, 'cluster', (status) => {
    if ((status.latestAvailableRevision ?? 0) >= next) return false;
    status.latestAvailableRevision = next;
  });
  await recordEvent(ctx, { kind: op.kind, name: 'cluster', apiVersion: op.apiVersion }, 'RevisionCreated', `Created revision ${next} of ${operand.name}`);
}

async function upsertRevisionStatus(ctx: OperatorContext, operand: Operand, rev: number): Promise<void> {
  const ref = CORE('configmaps', operand.namespace);
  const obj: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `revision-status-${rev}`, namespace: operand.namespace, labels: { revision: String(rev) } },
    data: { revision: String(rev), status: 'InProgress', createdAt: ctx.now().toISOString() },
  };
  try {
    await ctx.kube.create(ref, obj);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
