import type { KubeObject } from './client.js';

/**
 * A status condition, as operator.openshift.io objects (library-go's Condition) and
 * ClusterOperators carry them: the one definition the operator, backup and the CLI share.
 */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/**
 * Sets a condition on a status, keeping lastTransitionTime when the status did not flip
 * (library-go's v1helpers.SetOperatorCondition). Returns true when anything changed.
 */
export function setCondition(status: { conditions?: Condition[] }, c: Condition, now = new Date()): boolean {
  const list = (status.conditions ??= []);
  const i = list.findIndex((x) => x.type === c.type);
  const old = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: c.type,
    status: c.status,
    reason: c.reason ?? '',
    message: c.message ?? '',
    lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now.toISOString(),
  };
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) return false;
  if (i >= 0) list[i] = next;
  else list.push(next);
  return true;
}

export function findCondition(obj: KubeObject | undefined, type: string): Condition | undefined {
  return (obj?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}
