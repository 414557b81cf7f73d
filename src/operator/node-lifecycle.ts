/**
 * The node lifecycle controller, as kube-controller-manager runs it: a Node whose Lease has not
 * been renewed within the grace period gets its Ready condition set to Unknown, which kubectl shows
 * as NotReady. The agent sets it back to True on its next heartbeat.
 */
import { CORE, isConflict, type KubeObject } from '../kube/client.js';
import { LEASES, LEASE_DURATION_SECONDS } from '../agent/node.js';
import type { OperatorContext } from './context.js';

/**
 * Shorter than kube-controller-manager's 40 s --node-monitor-grace-period, by the heartbeat
 * interval and a sync: a node is then NotReady within 40 s of losing its agent, not of its last
 * heartbeat, which may be 10 s older.
 */
export const NODE_MONITOR_GRACE_MS = LEASE_DURATION_SECONDS * 1000 - 5_000;
export const NODE_LIFECYCLE_SYNC_MS = 2_000;

/** The Nodes to mark (pure): Ready not yet Unknown, and no heartbeat within the grace period. */
export function staleNodes(nodes: KubeObject[], leases: KubeObject[], now: Date, graceMs = NODE_MONITOR_GRACE_MS): string[] {
  const renewed = new Map(leases.map((l) => [l.metadata.name as string, Date.parse(l.spec?.renewTime ?? '')]));
  return nodes
    .filter((n) => {
      const ready = (n.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
      if (!ready || ready.status === 'Unknown') return false;
      const last = Math.max(renewed.get(n.metadata.name) ?? NaN, Date.parse(ready.lastHeartbeatTime ?? '')) || 0;
      return now.getTime() - last > graceMs;
    })
    .map((n) => n.metadata.name as string);
}

export function markUnknown(node: KubeObject, now: Date): KubeObject {
  const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = (node.status?.conditions ?? []).map((c: { type?: string }) =>
    c.type === 'Ready' ? { ...c, status: 'Unknown', lastTransitionTime: ts, reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : c,
  );
  return { ...node, status: { ...node.status, conditions } };
}

export async function syncNodeLifecycle(ctx: OperatorContext): Promise<string[]> {
  const [nodes, leases] = await Promise.all([ctx.kube.list(CORE('nodes')), ctx.kube.list(LEASES)]);
  const now = ctx.now();
  const stale = staleNodes(nodes.items, leases.items, now);
  for (const name of stale) {
    const node = nodes.items.find((n) => n.metadata.name === name)!;
    try {
      await ctx.kube.update(CORE('nodes'), markUnknown(node, now));
      ctx.log(`node ${name}: no heartbeat for ${NODE_MONITOR_GRACE_MS / 1000}s, marked NotReady`);
    } catch (err) {
      if (!isConflict(err)) throw err; // the agent came back meanwhile: next sync decides again
    }
  }
  return stale;
}
