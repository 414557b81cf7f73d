/**
 * Where a backup runs and where its files go, pure. A healthy member's host, a follower first
 * so the leader does not carry the load; a `local` volume pins the host (its node affinity), a
 * `hostPath` volume is on whichever host runs the backup; no claim: the host's
 * var/lib/etcd-backups.
 */
import type { KubeObject } from '../kube/client.js';

export interface Candidate {
  host: string;
  endpoint: string;
  healthy: boolean;
  isLeader: boolean;
  error?: string;
}

export type Placement = { host: string; endpoint: string; leader: boolean } | { error: string };

export function chooseHost(members: Candidate[], allowed?: string[]): Placement {
  const ok = members.filter((m) => m.healthy && (!allowed || allowed.includes(m.host)));
  const pick = ok.find((m) => !m.isLeader) ?? ok[0];
  if (pick) return { host: pick.host, endpoint: pick.endpoint, leader: pick.isLeader };
  const where = allowed ? ` among ${allowed.join(', ')} (the volume's node affinity)` : '';
  const why = members.filter((m) => !allowed || allowed.includes(m.host)).map((m) => `${m.host}: ${m.healthy ? 'not allowed' : (m.error ?? 'unhealthy')}`);
  return { error: `no healthy etcd member to back up${where}${why.length ? ` (${why.join('; ')})` : ''}` };
}

export type VolumeTarget = { path: string; hosts?: string[]; volume: string } | { error: string };

/** The bound volume of a claim: its path on a host, and the hosts it may be used on. */
export function claimTarget(pvcName: string, pvc: KubeObject | undefined, pvs: KubeObject[]): VolumeTarget {
  if (!pvc) return { error: `PersistentVolumeClaim openshift-etcd/${pvcName} does not exist: create it, or leave pvcName empty to back up into each host's var/lib/etcd-backups` };
  const byName = pvc.spec?.volumeName ? pvs.find((p) => p.metadata.name === pvc.spec.volumeName) : undefined;
  const byRef = pvs.find((p) => p.spec?.claimRef?.name === pvcName && (p.spec?.claimRef?.namespace ?? 'openshift-etcd') === 'openshift-etcd');
  const pv = byName ?? byRef;
  if (!pv) return { error: `PersistentVolumeClaim openshift-etcd/${pvcName} is not bound to a volume: set spec.volumeName, or a PersistentVolume's claimRef` };
  const s = pv.spec ?? {};
  if (s.hostPath?.path) return { path: s.hostPath.path, volume: pv.metadata.name };
  if (s.local?.path) {
    const hosts: string[] = [];
    for (const t of s.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
      for (const e of t.matchExpressions ?? []) if (e.key === 'kubernetes.io/hostname' && e.operator === 'In') hosts.push(...(e.values ?? []));
    }
    return { path: s.local.path, volume: pv.metadata.name, ...(hosts.length ? { hosts } : {}) };
  }
  return { error: `PersistentVolume ${pv.metadata.name} is neither hostPath nor local: backups go to a path on a host` };
}
