/** The restore's long waits: bounded, and telling what they wait for as it changes. */
import { request } from 'node:https';
import { describeEtcdError } from '../etcd/connection.js';
import type { Connection } from '../etcd/endpoints.js';
import { endpointHealth } from '../etcd/health.js';
import { memberList } from '../etcd/members.js';
import type { HostRecord } from '../home/cluster-file.js';
import { OPERATOR, type KubeClient } from '../kube/client.js';
import { findCondition } from '../kube/conditions.js';
import { UserError, errorMessage } from '../util/errors.js';
import { sleep } from '../util/time.js';
import type { RestoreEvent } from './events.js';

const HEARTBEAT_MS = 10_000;

/**
 * Polls `check` until it says done; reports its state when it changes and every 10 s, and fails
 * after the timeout with the last state and `hint`.
 */
export async function waitReporting(what: string, timeoutMs: number, report: (e: RestoreEvent) => void, hint: string, check: () => Promise<{ done: boolean; state: string }>): Promise<void> {
  const start = Date.now();
  let said = '';
  let saidAt = 0;
  for (;;) {
    let r: { done: boolean; state: string };
    try {
      r = await check();
    } catch (err) {
      r = { done: false, state: errorMessage(err).replace(/\s+/g, ' ') };
    }
    const now = Date.now();
    if (r.done) {
      report({ kind: 'progress', what, state: r.state, elapsedMs: now - start });
      return;
    }
    if (r.state !== said || now - saidAt >= HEARTBEAT_MS) {
      report({ kind: 'progress', what, state: r.state, elapsedMs: now - start });
      said = r.state;
      saidAt = now;
    }
    if (now - start > timeoutMs) throw new UserError(`${what}: not done after ${Math.round(timeoutMs / 1000)}s (${r.state}); ${hint}`);
    await sleep(500);
  }
}

/** GET /readyz of one API server instance: 200 is ready. */
export function apiReady(url: string, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { ca, servername: 'localhost', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? 'ready' : `HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
}

/** The single restored member commits proposals, and the host's API server is ready. */
export async function singleMemberState(conn: Connection, host: HostRecord, ca: string | undefined): Promise<{ done: boolean; state: string }> {
  const h = await endpointHealth({ ...conn, commandTimeoutMs: 2000 }, host.clientURL);
  if (!h.health) return { done: false, state: `etcd on ${host.name}: ${h.error}` };
  if (ca === undefined) return { done: true, state: `etcd on ${host.name} is healthy` };
  const api = await apiReady(host.apiServerURL, ca);
  return { done: api === 'ready', state: `etcd on ${host.name} is healthy; its API server: ${api}` };
}

/**
 * After a forced etcd redeployment: every host in `hosts` is a started voting member and healthy,
 * and the installer has every one of them on a revision newer than `before`.
 */
export async function grownState(conn: Connection, kube: KubeClient, resource: 'etcds' | 'kubeapiservers', hosts: HostRecord[], before: number, allHosts: boolean): Promise<{ done: boolean; state: string }> {
  const parts: string[] = [];
  let membersOk = true;
  if (resource === 'etcds') {
    let list;
    try {
      list = await memberList(conn);
    } catch (err) {
      return { done: false, state: `etcd: ${describeEtcdError(err, conn)}` };
    }
    const names = list.members.map((m) => (m.isLearner ? `${m.name || 'unstarted'} (learner)` : m.name || `${m.peerURLs[0]} (unstarted)`));
    parts.push(`members: ${names.join(', ')}`);
    for (const h of hosts) {
      const m = list.members.find((x) => x.peerURLs.includes(h.peerURL));
      if (!m || m.isLearner || !m.name) membersOk = false;
    }
    if (membersOk) {
      const health = await Promise.all(hosts.map((h) => endpointHealth({ ...conn, commandTimeoutMs: 2000 }, h.clientURL)));
      const bad = health.filter((x) => !x.health);
      if (bad.length) {
        membersOk = false;
        parts.push(`not healthy: ${bad.map((b) => b.endpoint).join(', ')}`);
      }
    }
  }
  const op = await kube.get(OPERATOR(resource), 'cluster');
  const latest: number = op.status?.latestAvailableRevision ?? 0;
  const cond = findCondition(op, 'NodeInstallerProgressing');
  parts.push(`${resource === 'etcds' ? 'etcd' : 'kube-apiserver'} NodeInstallerProgressing: ${cond?.reason ?? '?'} (${cond?.message ?? ''})`);
  const nodes: Array<{ nodeName: string; currentRevision: number }> = op.status?.nodeStatuses ?? [];
  const atLatest = latest > before && hosts.every((h) => nodes.find((n) => n.nodeName === h.name)?.currentRevision === latest);
  const settled = allHosts ? cond?.status === 'False' && cond.reason === 'AllNodesAtLatestRevision' && atLatest : atLatest;
  return { done: membersOk && settled, state: parts.join('; ') };
}
