import type { Etcd3 } from 'etcd3';
import { CORE, isConflict, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.js';
import { setCondition, type Condition } from '../kube/conditions.js';
import type { TransformObserver } from '../storage/store.js';

export const OPERATOR_NAMESPACE = 'openshift-kube-apiserver-operator';

export interface OperatorOptions {
  /** Rotate keys this long after the write key finished migrating (OpenShift: a week). */
  rotationIntervalMs: number;
  /** Objects rewritten per page by the migration controller. */
  migrationPageSize: number;
  /** How many pages the migration rewrites at once. */
  migrationConcurrency: number;
  /** A cap on the migration's pace, objects per second; none by default. */
  migrationObjectsPerSecond?: number;
  /** How many nodes may install a new API server revision at the same time. */
  maxUnavailable: number;
  etcdTimeoutMs: number;
}

/** What every controller gets: the API, etcd, and the operator's settings. */
export interface OperatorContext {
  kube: KubeClient;
  etcd: Etcd3;
  /** Where stores the controllers open count their value transformations. */
  metrics?: { observeTransform: TransformObserver };
  options: OperatorOptions;
  log: (line: string) => void;
  now: () => Date;
}

/**
 * Updates an object's status with fresh reads until the write wins: controllers never hold
 * state across syncs, so a conflict just means "read again and recompute".
 */
export async function updateStatus(
  ctx: OperatorContext,
  ref: ResourceRef,
  name: string,
  mutate: (status: Record<string, any>, obj: KubeObject) => boolean | void,
): Promise<KubeObject> {
  for (let attempt = 0; ; attempt++) {
    const obj = await ctx.kube.get(ref, name);
    obj.status ??= {};
    const changed = mutate(obj.status, obj);
    if (changed === false) return obj;
    try {
      return await ctx.kube.updateStatus(ref, obj);
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
    }
  }
}

export async function setConditions(ctx: OperatorContext, ref: ResourceRef, name: string, conditions: Condition[]): Promise<void> {
  await updateStatus(ctx, ref, name, (status) => {
    let changed = false;
    for (const c of conditions) changed = setCondition(status, c, ctx.now()) || changed;
    return changed;
  });
}

/** Records a Kubernetes Event about an operator object. Never carries key material. */
export async function recordEvent(ctx: OperatorContext, involved: { kind: string; name: string; apiVersion?: string }, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
  const now = ctx.now().toISOString();
  try {
    await ctx.kube.create(CORE('events', OPERATOR_NAMESPACE), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${involved.name}.`, namespace: OPERATOR_NAMESPACE },
      involvedObject: { ...involved, namespace: OPERATOR_NAMESPACE },
      reason,
      message,
      type,
      source: { component: 'etcd-ops-operator' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    ctx.log(`event ${type} ${reason}: ${message}`);
  } catch (err) {
    ctx.log(`could not record event ${reason}: ${(err as Error).message}`);
  }
}
