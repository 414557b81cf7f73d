/**
 * cluster-etcd-operator's cluster member controller as one pure decision per sync: grow etcd
 * back after a single-member restore, and shrink it when a host is gone. At most one change at
 * a time, and none while a voting member is unhealthy:
 *
 *   remove a dead member whose node is gone (its Node deleted, as when its Machine is) once a new
 *     node waits to join,
 *   promote a started learner (etcd refuses until it has caught up: try again next sync),
 *   wait while a learner or an added member has not caught up or started,
 *   add a learner for a node whose etcd pod runs its target revision but is not a member.
 */

export interface MemberView {
  id: bigint;
  name: string;
  peerURLs: string[];
  /** It has run (it has a name and client URLs). */
  started: boolean;
  isLearner: boolean;
  /** It committed a proposal just now (learners are not asked: they serve no linearizable reads). */
  healthy: boolean;
}

/** A node's etcd pod, as its mirror pod and the installer's node status show it. */
export interface EtcdNodeView {
  nodeName: string;
  /** --initial-advertise-peer-urls of the pod's etcd container. */
  peerURL?: string;
  /** The revision the mirror pod runs. */
  revision: number;
  ready: boolean;
  /** The revision the installer hands this node now (0: none). */
  targetRevision: number;
}

export type MembershipAction =
  | { kind: 'none'; why: string }
  | { kind: 'wait'; why: string }
  | { kind: 'add-learner'; node: string; peerURL: string }
  | { kind: 'promote'; id: bigint; name: string }
  | { kind: 'remove'; id: bigint; name: string; why: string };

export function planMembership(members: MemberView[], nodes: EtcdNodeView[], existingNodes?: string[]): MembershipAction {
  const voters = members.filter((m) => !m.isLearner);
  const sick = voters.filter((m) => !m.healthy);
  const byPeer = (url: string) => members.find((m) => m.peerURLs.includes(url));
  const nodeOf = (m: MemberView) => nodes.find((n) => (n.peerURL && m.peerURLs.includes(n.peerURL)) || n.nodeName === m.name);

  if (existingNodes) {
    // A member goes only when its host was replaced, never because a Node is late to register:
    // its Node is gone, it does not answer, and a new node waits to join (its etcd pod runs,
    // with a peer URL no member has).
    const waiting = nodes.some((n) => n.peerURL && existingNodes.includes(n.nodeName) && !byPeer(n.peerURL));
    const gone = members.filter((m) => {
      const name = nodeOf(m)?.nodeName ?? m.name;
      return name !== '' && !existingNodes.includes(name) && !m.healthy;
    });
    for (const m of waiting ? gone : []) {
      const label = m.name || m.id.toString(16);
      // A learner or a member that never started holds no vote: it can always go.
      if (m.isLearner || !m.started) return { kind: 'remove', id: m.id, name: label, why: `its node ${label} is gone` };
      const rest = voters.filter((v) => v.id !== m.id);
      // The remaining voters must all be healthy: then they are a quorum of the smaller cluster.
      if (rest.length > 0 && rest.every((v) => v.healthy)) return { kind: 'remove', id: m.id, name: label, why: `its node ${label} is gone` };
    }
  }

  if (sick.length > 0) return { kind: 'wait', why: `member${sick.length > 1 ? 's' : ''} ${sick.map((m) => m.name || m.id.toString(16)).join(', ')} ${sick.length > 1 ? 'are' : 'is'} not healthy` };

  const learner = members.find((m) => m.isLearner && m.started);
  if (learner) return { kind: 'promote', id: learner.id, name: learner.name };
  const pending = members.find((m) => !m.started);
  if (pending) return { kind: 'wait', why: `member ${pending.peerURLs.join(',')} was added and has not started yet` };

  for (const n of [...nodes].sort((a, b) => a.nodeName.localeCompare(b.nodeName))) {
    if (!n.peerURL || byPeer(n.peerURL)) continue;
    if (existingNodes && !existingNodes.includes(n.nodeName)) continue;
    // The installer handed this node its revision and the pod runs it, waiting to be let in:
    // not a stale mirror pod left from before a restore.
    if (n.ready || n.targetRevision === 0 || n.revision !== n.targetRevision) continue;
    return { kind: 'add-learner', node: n.nodeName, peerURL: n.peerURL };
  }
  return { kind: 'none', why: `${voters.length} voting member${voters.length === 1 ? '' : 's'}, nothing to add or remove` };
}

/** The peer URL an etcd pod advertises, from its container's command line (flag or env). */
export function peerURLOfPod(containers: Array<{ name?: string; command?: string[]; args?: string[]; env?: Array<{ name: string; value?: string }> }>): string | undefined {
  for (const c of containers) {
    const argv = [...(c.command ?? []), ...(c.args ?? [])];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a.startsWith('--initial-advertise-peer-urls=')) return a.slice('--initial-advertise-peer-urls='.length).split(',')[0];
      if (a === '--initial-advertise-peer-urls' && argv[i + 1]) return argv[i + 1]!.split(',')[0];
    }
    const env = c.env?.find((e) => e.name === 'ETCD_INITIAL_ADVERTISE_PEER_URLS')?.value;
    if (env) return env.split(',')[0];
  }
  return undefined;
}
