import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { runningAgent, startAgent, stopAgent } from '../agent/control.js';
import { etcdBinaries, etcdVersion } from '../etcd/binaries.js';
import type { Connection } from '../etcd/connection.js';
import { endpointHealths, type EndpointHealth } from '../etcd/health.js';
import { ETCD_POD, etcdPod } from '../etcd/pod.js';
import { installRevision } from '../staticpod/install.js';
import { UserError } from '../util/errors.js';
import { freePorts } from '../util/ports.js';
import { sleep } from '../util/time.js';
import { folderInUse, homeIsOurs, loadClusterFile, saveClusterFile, type ClusterFile } from './cluster-file.js';
import { hostNames, hostPaths } from './layout.js';

export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export interface CreateOptions {
  hosts: number;
  quotaBackendBytes: number;
  log: (line: string) => void;
}

/** Lays out a new home: hosts with their folders, ports, and revision 1 of the etcd static pod. */
export async function createHome(home: string, o: CreateOptions): Promise<ClusterFile> {
  if (folderInUse(home) && !homeIsOurs(home)) {
    throw new UserError(`${home} exists and is not an etcd-ops home (no cluster.json): choose another --home or empty folder`);
  }
  const bins = etcdBinaries({ install: true, log: o.log });
  const names = hostNames(o.hosts);
  const ports = await freePorts(names.length * 3);
  const cluster: ClusterFile = {
    apiVersion: 'etcd-ops.io/v1',
    kind: 'LocalControlPlane',
    clusterToken: `etcd-ops-${randomBytes(6).toString('hex')}`,
    createdAt: new Date().toISOString(),
    quotaBackendBytes: o.quotaBackendBytes,
    etcd: { bin: bins.etcd, version: etcdVersion(bins.etcd) },
    hosts: names.map((name, i) => ({
      name,
      clientURL: `http://127.0.0.1:${ports[i * 3]}`,
      peerURL: `http://127.0.0.1:${ports[i * 3 + 1]}`,
      metricsURL: `http://127.0.0.1:${ports[i * 3 + 2]}`,
    })),
  };
  mkdirSync(home, { recursive: true });
  for (const host of cluster.hosts) {
    const p = hostPaths(home, host.name);
    for (const dir of [p.manifests, p.staticPodResources, p.log, p.kubeletDir]) mkdirSync(dir, { recursive: true });
    mkdirSync(p.etcdDataDir, { recursive: true, mode: 0o700 });
    installRevision(p, ETCD_POD, 1, etcdPod({ home, cluster, host, revision: 1 }), []);
  }
  // Written last: a home with a cluster file is complete.
  saveClusterFile(home, cluster);
  return cluster;
}

export function hostsRunning(home: string, cluster: ClusterFile): string[] {
  return cluster.hosts.filter((h) => runningAgent(home, h.name)).map((h) => h.name);
}

export async function startHosts(home: string, cluster: ClusterFile, hosts = cluster.hosts.map((h) => h.name)): Promise<void> {
  for (const h of hosts) {
    if (!cluster.hosts.some((x) => x.name === h)) {
      throw new UserError(`no host ${h} in ${home}: hosts are ${cluster.hosts.map((x) => x.name).join(', ')}`);
    }
  }
  await Promise.all(hosts.map((h) => startAgent(home, h)));
}

export async function stopHosts(home: string, cluster: ClusterFile): Promise<string[]> {
  const stopped = await Promise.all(cluster.hosts.map(async (h) => ((await stopAgent(home, h.name)) ? h.name : undefined)));
  return stopped.filter((h): h is string => h !== undefined);
}

/** Waits until every member commits a proposal, within the timeout; then the unhealthy ones are named. */
export async function waitHealthy(conn: Connection, timeoutMs: number): Promise<EndpointHealth[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await endpointHealths({ ...conn, commandTimeoutMs: Math.min(conn.commandTimeoutMs, 2000) });
    if (rows.every((r) => r.health)) return rows;
    if (Date.now() > deadline) {
      const bad = rows.filter((r) => !r.health);
      throw new UserError(`members not healthy after ${Math.round(timeoutMs / 1000)}s: ${bad.map((b) => `${b.endpoint} (${b.error})`).join('; ')}; see the hosts' var/log`);
    }
    await sleep(250);
  }
}

