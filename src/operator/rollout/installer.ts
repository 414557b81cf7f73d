import { CORE } from '../../kube/client.js';
import { setCondition } from '../../kube/conditions.js';
import { recordEvent, updateStatus, type OperatorContext } from '../context.js';
import type { Operand } from './operands.js';
import { nodeInstallerProgressing, planInstalls, type MirrorPodView, type NodeStatus, type NodeView } from './progress.js';

/** The revisions the nodes' agents report through their mirror pods. */
export async function mirrorPods(ctx: OperatorContext, operand: Operand): Promise<MirrorPodView[]> {
  const { items } = await ctx.kube.list(CORE('pods', operand.namespace));
  return items
    .filter((p) => p.metadata.name === `${operand.mirrorPrefix}-${p.spec?.nodeName}`)
    .map((p) => ({
      nodeName: p.spec.nodeName,
      revision: Number(p.metadata.labels?.revision ?? 0),
      ready: (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'),
    }));
}

/**
 * library-go's installer + node controllers in one sync: learn the nodes, notice finished
 * installs, and hand out the latest revision (the agent on that node installs it).
 */
export async function syncInstalls(ctx: OperatorContext, operand: Operand, healthy: () => Promise<boolean>, existingNodes: () => Promise<NodeView[] | undefined> = async () => undefined): Promise<void> {
  const [pods, nodeNames] = await Promise.all([mirrorPods(ctx, operand), existingNodes()]);
  const gate = operand.oneAtATimeWhileHealthy ? await healthy() : true;
  const maxUnavailable = operand.oneAtATimeWhileHealthy ? 1 : ctx.options.maxUnavailable;
  let started: string[] = [];
  let finished: string[] = [];
  let latest = 0;
  const op = await updateStatus(ctx, operand.operator, 'cluster', (status) => {
    latest = status.latestAvailableRevision ?? 0;
    const before = JSON.stringify(status.nodeStatuses ?? []);
    const plan = planInstalls((status.nodeStatuses ?? []) as NodeStatus[], pods, latest, maxUnavailable, gate, nodeNames);
    started = plan.started;
    finished = plan.finished;
    status.nodeStatuses = plan.nodes;
    const p = nodeInstallerProgressing(plan.nodes, latest);
    const changed = setCondition(status, { type: 'NodeInstallerProgressing', ...p }, ctx.now());
    return changed || before !== JSON.stringify(plan.nodes);
  });
  for (const n of finished) await recordEvent(ctx, { kind: op.kind, name: 'cluster' }, 'NodeCurrentRevisionChanged', `Updated node "${n}" to revision ${latest}`);
  for (const n of started) await recordEvent(ctx, { kind: op.kind, name: 'cluster' }, 'NodeTargetRevisionChanged', `Updating node "${n}" to revision ${latest}`);
}
