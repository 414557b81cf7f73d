/**
 * `host replace`: what deleting a control-plane Machine and letting the machine API create its
 * successor does, on a home. The dead host's folder is moved aside (never deleted), a new host
 * with the next free number joins (master-3 after master-0..2, as the seed's example), its Node
 * replaces the dead one's, and the operator does the rest: it removes the dead member and adds
 * the new one as a learner, then promotes it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { installFromApi, INSTALLABLE_PODS } from '../agent/apisync.js';
import { killHost, runningAgent } from '../agent/control.js';
import { kubeApiserverCertsDir } from '../apiserver/pod.js';
import { endpointHealth } from '../etcd/health.js';
import { memberList } from '../etcd/members.js';
import type { Connection } from '../etcd/endpoints.js';
import { loadClusterFile, saveClusterFile, type ClusterFile, type HostRecord } from '../home/cluster-file.js';
import { hostPaths, kubeconfigPath, lbPaths, pkiDir } from '../home/layout.js';
import { CORE, isNotFound, KubeClient, OPERATOR } from '../kube/client.js';
import { findCondition } from '../kube/conditions.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { stopDaemon } from '../util/daemon.js';
import { UserError, errorMessage } from '../util/errors.js';
import { fileStamp, moveAside, writeFileAtomic } from '../util/fsx.js';
import { sleep } from '../util/time.js';
import { layOutHost, newHostRecord } from './create.js';
import { loadEtcdSigner } from './etcd-certs.js';
import { loadCredentials, nodeUser, tokensCsv, type Credentials } from './credentials.js';
import { startHosts, startLoadBalancer } from './lifecycle.js';
import { NODES_GROUP } from '../apiserver/rbac/policy.js';
import { randomBytes } from 'node:crypto';

export type ReplaceEvent =
  | { kind: 'killed'; host: string }
  | { kind: 'moved'; host: string; to: string }
  | { kind: 'created'; host: string; record: HostRecord }
  | { kind: 'note'; text: string }
  | { kind: 'progress'; state: string; elapsedMs: number }
  | { kind: 'done'; dead: string; host: string };

/** master-N with N one past the highest number any host of the home has had (folders moved aside included). */
export function nextHostName(cluster: ClusterFile, folderNames: string[]): string {
  let max = -1;
  for (const n of [...cluster.hosts.map((h) => h.name), ...folderNames]) {
    const m = /^master-(\d+)(?:$|\.)/.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `master-${max + 1}`;
}

export interface ReplaceRequest {
  home: string;
  host: string;
  /** TLS and timeouts for the home's etcd. */
  conn: Connection;
  timeoutMs: number;
  report: (e: ReplaceEvent) => void;
}

export async function replaceHost(req: ReplaceRequest): Promise<HostRecord> {
  const { home } = req;
  const cluster = loadClusterFile(home);
  const dead = cluster.hosts.find((h) => h.name === req.host);
  if (!dead) throw new UserError(`no host "${req.host}" in ${home}: hosts are ${cluster.hosts.map((h) => h.name).join(', ')}`);
  if (cluster.hosts.length === 1) throw new UserError(`${req.host} is the only host: there is no cluster left to join; restore it from a backup instead (etcd-ops restore)`);
  const creds = loadCredentials(home);
  const kube = new KubeClient(loadKubeconfig(kubeconfigPath(home)), 10_000);
  try {
    // The Machine goes: its host stops for good, and its folder is kept aside.
    if (runningAgent(home, dead.name)) {
      killHost(home, dead.name);
      req.report({ kind: 'killed', host: dead.name });
    }
    const root = hostPaths(home, dead.name).root;
    if (existsSync(root)) req.report({ kind: 'moved', host: dead.name, to: moveAside(root, 'replaced') });

    const hostsDir = join(home, 'hosts');
    const name = nextHostName(cluster, existsSync(hostsDir) ? readdirSync(hostsDir) : []);
    const record = await newHostRecord(cluster, name);
    addNodeToken(home, creds, name);
    const next: ClusterFile = { ...cluster, hosts: [...cluster.hosts.filter((h) => h.name !== dead.name), record] };
    saveClusterFile(home, next);
    await layOutHost(home, next, record, creds, loadEtcdSigner(home), { firstRevisions: false });
    // Lost hosts (folders gone) get nothing written: that would bring a folder back from the dead.
    for (const h of next.hosts) {
      if (existsSync(hostPaths(home, h.name).root)) writeFileAtomic(join(kubeApiserverCertsDir(home, h.name), 'secrets/authentication/tokens.csv'), tokensCsv(creds.tokens), 0o600);
    }
    req.report({ kind: 'created', host: name, record });

    // The dead host's Node and mirror pods go, as the node lifecycle controller removes them.
    await deleteIfThere(kube, CORE('nodes'), dead.name);
    for (const [ns, pod] of [['openshift-etcd', `etcd-${dead.name}`], ['openshift-kube-apiserver', `kube-apiserver-${dead.name}`], ['openshift-kube-apiserver-operator', `etcd-ops-operator-${dead.name}`]] as const) {
      await deleteIfThere(kube, CORE('pods', ns), pod);
    }
    // The new host starts on the operator's latest revisions, as its installer pods would put them.
    for (const item of INSTALLABLE_PODS) {
      const op = await kube.get(OPERATOR(item.operator), 'cluster');
      const latest: number = op.status?.latestAvailableRevision ?? 0;
      if (latest > 0) await installFromApi(kube, home, name, item, latest);
    }
    // Every API server reads its token file at start: a new revision lets the new node in.
    const before: number = (await kube.get(OPERATOR('kubeapiservers'), 'cluster')).status?.latestAvailableRevision ?? 0;
    await kube.mergePatch(OPERATOR('kubeapiservers'), 'cluster', { spec: { forceRedeploymentReason: `replace-${dead.name}-with-${name}-${fileStamp()}` } });
    // The load balancer learns its backends at start.
    await stopDaemon(lbPaths(home).pidFile);
    await startLoadBalancer(home);
    await startHosts(home, next, [name]);

    await waitReplaced(req, kube, next, dead, record, before);
    req.report({ kind: 'done', dead: dead.name, host: name });
    return record;
  } finally {
    kube.close();
  }
}

/** The new node's credential, in the home's users and every API server's token file. */
function addNodeToken(home: string, creds: Credentials, host: string): void {
  if (creds.tokens.some((t) => t.user === nodeUser(host))) return;
  creds.tokens.push({ token: randomBytes(24).toString('base64url'), user: nodeUser(host), uid: `node-${host}`, groups: [NODES_GROUP] });
  writeFileAtomic(join(pkiDir(home), 'users.json'), JSON.stringify({ tokens: creds.tokens }, null, 2) + '\n', 0o600);
}

async function deleteIfThere(kube: KubeClient, ref: ReturnType<typeof CORE>, name: string): Promise<void> {
  try {
    await kube.delete(ref, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Until the new host is a healthy voting member, the dead one is no member, and the new host's API server runs a revision with its token. */
async function waitReplaced(req: ReplaceRequest, kube: KubeClient, cluster: ClusterFile, dead: HostRecord, host: HostRecord, before: number): Promise<void> {
  const conn = { ...req.conn, endpoints: cluster.hosts.map((h) => h.clientURL), commandTimeoutMs: 2000 };
  const start = Date.now();
  let said = '';
  let saidAt = 0;
  for (;;) {
    let state: string;
    let done = false;
    try {
      const list = await memberList(conn);
      const mine = list.members.find((m) => m.peerURLs.includes(host.peerURL));
      const old = list.members.find((m) => m.peerURLs.includes(dead.peerURL));
      const health = await endpointHealth(conn, host.clientURL);
      const op = await kube.get(OPERATOR('kubeapiservers'), 'cluster');
      const kas = findCondition(op, 'NodeInstallerProgressing');
      const latest: number = op.status?.latestAvailableRevision ?? 0;
      const kasDone = latest > before && (op.status?.nodeStatuses ?? []).some((n: { nodeName: string; currentRevision: number }) => n.nodeName === host.name && n.currentRevision === latest);
      state = `members: ${list.members.map((m) => `${m.name || m.peerURLs[0]}${m.isLearner ? ' (learner)' : ''}`).join(', ')}; ${dead.name} ${old ? 'still a member' : 'removed'}; ${host.name} ${!mine ? 'not added yet' : mine.isLearner ? 'a learner' : health.health ? 'a healthy voting member' : 'a voting member, not healthy yet'}; kube-apiserver: ${kas?.reason ?? '?'} (${kas?.message ?? ''})`;
      done = !old && !!mine && !mine.isLearner && health.health && kasDone;
    } catch (err) {
      state = errorMessage(err).replace(/\s+/g, ' ');
    }
    const now = Date.now();
    if (done || state !== said || now - saidAt > 10_000) {
      req.report({ kind: 'progress', state, elapsedMs: now - start });
      said = state;
      saidAt = now;
    }
    if (done) return;
    if (now - start > req.timeoutMs) {
      throw new UserError(`${host.name} did not replace ${dead.name} within ${Math.round(req.timeoutMs / 1000)}s (${state}): see the operator's log (var/log/pods/openshift-kube-apiserver-operator_*) and \`etcd-ops ps --host ${host.name}\``);
    }
    await sleep(1000);
  }
}

