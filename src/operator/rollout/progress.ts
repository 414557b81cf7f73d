/** A node's place in a static pod rollout, as status.nodeStatuses[] carries it. */
export interface NodeStatus {
  nodeName: string;
  currentRevision: number;
  targetRevision?: number;
  lastFailedRevision?: number;
}

const nodesAre = (n: number) => (n === 1 ? '1 node is' : `${n} nodes are`);

/**
 * NodeInstallerProgressing as library-go words it: "3 nodes are at revision 7", or
 * "1 node is at revision 6; 2 nodes are at revision 7", plus "; 0 nodes have achieved new
 * revision 8" while no node has the newest one yet.
 */
export function nodeInstallerProgressing(nodes: NodeStatus[], latest: number): { status: 'True' | 'False'; reason: string; message: string } {
  const counts = new Map<number, number>();
  for (const n of nodes) counts.set(n.currentRevision, (counts.get(n.currentRevision) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => a[0] - b[0]).map(([rev, n]) => `${nodesAre(n)} at revision ${rev}`);
  let message = parts.join('; ');
  if (!counts.has(latest) && latest > 0) message += `; 0 nodes have achieved new revision ${latest}`;
  const done = nodes.length > 0 && nodes.every((n) => n.currentRevision === latest);
  return done ? { status: 'False', reason: 'AllNodesAtLatestRevision', message } : { status: 'True', reason: 'NodeInstaller', message };
}

/** A Node as the installer sees it: whether it exists, and whether it is Ready. */
export interface NodeView {
  name: string;
  ready: boolean;
}

export interface MirrorPodView {
  nodeName: string;
  revision: number;
  ready: boolean;
}

/**
 * The installer's plan for one sync, pure: record finished installs, and hand the latest
 * revision to at most `maxUnavailable` nodes at a time. `healthy` gates starting new installs
 * (etcd members restart only while the cluster is healthy).
 */
export function planInstalls(
  nodes: NodeStatus[],
  pods: MirrorPodView[],
  latest: number,
  maxUnavailable: number,
  healthy: boolean,
  existingNodes?: NodeView[],
): { nodes: NodeStatus[]; started: string[]; finished: string[]; removed: string[] } {
  // With Node objects, they say which nodes there are (library-go's node controller): a node
  // whose Node was deleted (its host replaced) leaves, a new one joins even before it runs a pod.
  // A NotReady node cannot run an installer: it gets no target, and loses one it had, so one
  // lost host does not hold the rollout of the others.
  const exists = (name: string) => existingNodes === undefined || existingNodes.some((n) => n.name === name);
  const ready = (name: string) => existingNodes === undefined || existingNodes.some((n) => n.name === name && n.ready);
  const removed = nodes.filter((n) => !exists(n.nodeName)).map((n) => n.nodeName);
  const out = nodes.filter((n) => exists(n.nodeName)).map((n) => ({ ...n }));
  for (const p of pods) {
    if (exists(p.nodeName) && !out.some((n) => n.nodeName === p.nodeName)) out.push({ nodeName: p.nodeName, currentRevision: p.ready ? p.revision : 0 });
  }
  for (const { name } of existingNodes ?? []) if (!out.some((n) => n.nodeName === name)) out.push({ nodeName: name, currentRevision: 0 });
  out.sort((a, b) => a.nodeName.localeCompare(b.nodeName));
  const finished: string[] = [];
  for (const n of out) {
    const pod = pods.find((p) => p.nodeName === n.nodeName);
    if (n.targetRevision && pod?.ready && pod.revision === n.targetRevision) {
      n.currentRevision = n.targetRevision;
      n.targetRevision = 0;
      finished.push(n.nodeName);
    }
  }
  for (const n of out) if (n.targetRevision && !ready(n.nodeName)) n.targetRevision = 0;
  const started: string[] = [];
  let inFlight = out.filter((n) => n.targetRevision).length;
  if (healthy) {
    for (const n of out) {
      if (inFlight >= maxUnavailable) break;
      if (!n.targetRevision && n.currentRevision !== latest && latest > 0 && ready(n.nodeName)) {
        n.targetRevision = latest;
        started.push(n.nodeName);
        inFlight++;
      }
    }
  }
  return { nodes: out, started, finished, removed };
}
