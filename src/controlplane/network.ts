/**
 * The home's host network, from its cluster file: which namespace each host runs in, making it
 * before the agents start, removing it after they stop, and sweeping what a crash left.
 */
import type { ClusterFile } from '../home/cluster-file.js';
import { listLinks, listNamespaces } from '../netns/ip.js';
import { ensureNetwork, healHost, reclaimSlot, hostIsolated, isolateHost, removeNetwork, claimHomeGone, readClaimOf } from '../netns/network.js';
import { planNetwork, type HostNetwork, type NetworkPlan } from '../netns/plan.js';
import { UserError } from '../util/errors.js';
import { hostIndex } from '../home/layout.js';

export function networkPlan(cluster: ClusterFile): NetworkPlan | undefined {
  const n = cluster.network;
  if (n?.mode !== 'hosts' || !n.id || !n.slot) return undefined;
  return planNetwork(n.id, n.slot, cluster.hosts.map((h) => ({ name: h.name, index: hostIndex(h.name) })));
}

export function hostNetwork(cluster: ClusterFile, host: string): HostNetwork | undefined {
  return networkPlan(cluster)?.hosts.find((h) => h.host === host);
}

/** Before agents start: the home's slot claimed, the bridge and every host's namespace and link (idempotent). */
export function bringUpNetwork(home: string, cluster: ClusterFile): void {
  const plan = networkPlan(cluster);
  if (!plan) return;
  reclaimSlot(plan.id, home, plan.slot);
  ensureNetwork(plan);
}

/** After every agent stopped: the namespaces and links the home made, nothing else. */
export function tearDownNetwork(cluster: ClusterFile): string[] {
  const plan = networkPlan(cluster);
  return plan ? removeNetwork(plan.id) : [];
}

function requireHostNetwork(cluster: ClusterFile, host: string): HostNetwork {
  const h = hostNetwork(cluster, host);
  if (!h) throw new UserError(`${host} shares the machine's network (this home was made without a network per host), so it cannot be isolated: \`etcd-ops down\` and \`up\` in a new home as root give hosts their own network`);
  return h;
}

export function isolate(cluster: ClusterFile, host: string): void {
  isolateHost(requireHostNetwork(cluster, host));
}

export function heal(cluster: ClusterFile, host: string): void {
  healHost(requireHostNetwork(cluster, host));
}

export function isIsolated(cluster: ClusterFile, host: string): boolean {
  const h = hostNetwork(cluster, host);
  return h ? hostIsolated(h) : false;
}

/**
 * What a crashed `up` or a deleted home left: namespaces and links that carry our names and whose
 * home is gone (see claimHomeGone). Processes still inside them are that home's orphans.
 */
export function sweepLeftovers(): string[] {
  const ids = new Set<string>();
  for (const n of listNamespaces()) {
    const m = /^etcd-ops-([0-9a-f]{6})-/.exec(n);
    if (m) ids.add(m[1]!);
  }
  for (const l of listLinks()) {
    const m = /^eo([0-9a-f]{6})(-\d+)?$/.exec(l);
    if (m) ids.add(m[1]!);
  }
  const removed: string[] = [];
  for (const id of ids) {
    if (claimHomeGone(readClaimOf(id))) removed.push(...removeNetwork(id));
  }
  return removed;
}
