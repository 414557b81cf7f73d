import type { KubeObject } from '../kube/client.js';

export interface OperatorCondition {
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
export function setCondition(status: { conditions?: OperatorCondition[] }, c: OperatorCondition, now = new Date()): boolean {
  const list = (status.conditions ??= []);
  const i = list.findIndex((x) => x.type === c.type);
  const old = i >= 0 ? list[i] : undefined;
  const next: OperatorCondition = {
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

export function findCondition(obj: KubeObject | undefined, type: string): OperatorCondition | undefined {
  return (obj?.status?.conditions as OperatorCondition[] | undefined)?.find((c) => c.type === type);
}
