import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { runningAgent, startAgent, stopAgent } from '../agent/control.js';
import { etcdBinaries, etcdVersion } from '../etcd/binaries.js';
import { withClient, type Connection } from '../etcd/connection.js';
import { endpointHealths, type EndpointHealth } from '../etcd/health.js';
import { ETCD_POD, etcdPod } from '../etcd/pod.js';
import { installRevision } from '../staticpod/install.js';
import { KUBE_APISERVER_POD, kubeApiserverCertsDir, kubeApiserverRevision } from '../apiserver/pod.js';
import { renderEncryptionConfiguration } from '../operator/encryption/state.js';
import { OPERATOR_KUBECONFIG, OPERATOR_POD, operatorPod } from '../operator/pod.js';
import { revisionDir } from '../staticpod/install.js';
import { issueServerCert } from '../pki/index.js';
import { runningDaemon, startDaemon, stopDaemon } from '../util/daemon.js';
import { writeFileAtomic } from '../util/fsx.js';
import { lbPaths } from '../lb/main.js';
import { selfCommand } from '../version.js';
import { createCredentials, nodeUser, OPERATOR_USER, tokensCsv } from './credentials.js';
import { writeHostKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { freePorts } from '../util/ports.js';
import { sleep } from '../util/time.js';
import { folderInUse, homeIsOurs, saveClusterFile, type ClusterFile } from './cluster-file.js';
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
  const ports = await freePorts(names.length * 5 + 1);
  const cluster: ClusterFile = {
    apiVersion: 'etcd-ops.io/v1',
    kind: 'LocalControlPlane',
    clusterToken: `etcd-ops-${randomBytes(6).toString('hex')}`,
    createdAt: new Date().toISOString(),
    quotaBackendBytes: o.quotaBackendBytes,
    etcd: { bin: bins.etcd, version: etcdVersion(bins.etcd) },
    apiServer: { url: `https://127.0.0.1:${ports[names.length * 5]}`, compactionInterval: '5m' },
    hosts: names.map((name, i) => ({
      name,
      clientURL: `http://127.0.0.1:${ports[i * 5]}`,
      peerURL: `http://127.0.0.1:${ports[i * 5 + 1]}`,
      metricsURL: `http://127.0.0.1:${ports[i * 5 + 2]}`,
      apiServerURL: `https://127.0.0.1:${ports[i * 5 + 3]}`,
      operatorMetricsURL: `http://127.0.0.1:${ports[i * 5 + 4]}`,
    })),
  };
  mkdirSync(home, { recursive: true });
  const creds = await createCredentials(home, names);
  for (const host of cluster.hosts) {
    const p = hostPaths(home, host.name);
    for (const dir of [p.manifests, p.staticPodResources, p.log, p.kubeletDir]) mkdirSync(dir, { recursive: true });
    mkdirSync(p.etcdDataDir, { recursive: true, mode: 0o700 });
    installRevision(p, ETCD_POD, 1, etcdPod({ home, cluster, host, revision: 1 }), []);
    const certs = kubeApiserverCertsDir(home, host.name);
    const serving = await issueServerCert(creds.ca, { commonName: `kube-apiserver-${host.name}`, dnsNames: ['localhost', host.name] });
    writeFileAtomic(join(certs, 'secrets/serving-cert/tls.crt'), serving.certPem, 0o644);
    writeFileAtomic(join(certs, 'secrets/serving-cert/tls.key'), serving.keyPem, 0o600);
    writeFileAtomic(join(certs, 'secrets/authentication/tokens.csv'), tokensCsv(creds.tokens), 0o600);
    // Revision 1 is what the operator's revision 1 will be: identity for every component.
    const rev = kubeApiserverRevision({ home, cluster, host, revision: 1, encryptionConfig: renderEncryptionConfiguration(new Map()) });
    installRevision(p, KUBE_APISERVER_POD, 1, rev.pod, rev.files);
    writeHostKubeconfig(home, host.name, cluster.apiServer.url, creds, nodeUser(host.name));
    const opKubeconfig = join(revisionDir(p, OPERATOR_POD, 1), OPERATOR_KUBECONFIG);
    writeHostKubeconfig(home, host.name, cluster.apiServer.url, creds, OPERATOR_USER, opKubeconfig);
    installRevision(p, OPERATOR_POD, 1, operatorPod(home, cluster, host, 1), []);
  }
  writeKubeconfig(home, cluster.apiServer.url, creds);
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

/** The load balancer in front of the API servers, outside the hosts like an external LB. */
export async function startLoadBalancer(home: string): Promise<void> {
  const p = lbPaths(home);
  await startDaemon({ name: 'the load balancer', command: [...selfCommand, 'lb', '--home', home], pidFile: p.pidFile, logFile: p.logFile, cwd: home });
}

export function loadBalancerRunning(home: string): boolean {
  return runningDaemon(lbPaths(home).pidFile) !== undefined;
}

export async function stopHosts(home: string, cluster: ClusterFile): Promise<string[]> {
  const stopped = await Promise.all(cluster.hosts.map(async (h) => ((await stopAgent(home, h.name)) ? h.name : undefined)));
  if (await stopDaemon(lbPaths(home).pidFile)) stopped.push('load balancer');
  return stopped.filter((h): h is string => h !== undefined);
}

/** Waits until an API server answers /readyz through the load balancer. */
export async function waitApiReady(url: string, ca: string, timeoutMs: number): Promise<void> {
  const { request } = await import('node:https');
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const code = await new Promise<number>((resolve) => {
      const req = request(`${url}/readyz`, { ca, servername: 'localhost', timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', (err) => {
        last = err.message;
        resolve(0);
      });
      req.end();
    });
    if (code === 200) return;
    if (code) last = `HTTP ${code}`;
    if (Date.now() > deadline) throw new UserError(`the API server at ${url} is not ready after ${Math.round(timeoutMs / 1000)}s (${last}); see the hosts' var/log/pods`);
    await sleep(250);
  }
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


/**
 * Waits until the operators have settled (see unsettled()); returns what is still unsettled when
 * the time is up, so `up` can say so rather than fail: the cluster itself is healthy by then.
 */
export async function waitSettled(conn: Connection, nodeNames: string[], timeoutMs: number): Promise<string | undefined> {
  const { OPERATOR_PREFIX, parseOperatorObject, unsettled } = await import('../backup/operators.js');
  const deadline = Date.now() + timeoutMs;
  let why: string | undefined = 'the operator objects could not be read yet';
  for (;;) {
    try {
      const res = await withClient(conn, conn.endpoints, (c) => c.getAll().prefix(OPERATOR_PREFIX).exec());
      const states = res.kvs.map((kv) => parseOperatorObject(kv.key.toString('utf8'), kv.value)).filter((x) => x !== undefined);
      why = states.length ? unsettled(states, nodeNames) : 'no operator has reported yet';
      if (!why) return undefined;
    } catch (err) {
      why = `cannot read the operators' status: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) return why;
    await sleep(250);
  }
}
