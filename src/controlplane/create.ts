import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KUBE_APISERVER_POD, kubeApiserverCertsDir, kubeApiserverRevision, kubeletClientFiles } from '../apiserver/pod.js';
import { etcdBinaries, etcdVersion } from '../etcd/binaries.js';
import { ETCD_POD, etcdPod } from '../etcd/pod.js';
import { folderInUse, homeIsOurs, saveClusterFile, type ClusterFile, type HostRecord, type NetworkRecord } from '../home/cluster-file.js';
import { hostIndex, hostNames, hostPaths, type HostPaths } from '../home/layout.js';
import { renderEncryptionConfiguration } from '../operator/encryption/state.js';
import { OPERATOR_KUBECONFIG, OPERATOR_POD, operatorPod } from '../operator/pod.js';
import { issueClientCert, issueServerCert, type CertKeyPair } from '../pki/index.js';
import { installRevision, revisionDir } from '../staticpod/install.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';
import { freePorts } from '../util/ports.js';
import { createCredentials, nodeUser, OPERATOR_USER, tokensCsv, type Credentials } from './credentials.js';
import { writeHostTool } from './host-shell.js';
import { writeHostScripts } from './host-scripts.js';
import { createEtcdPki, writeApiserverEtcdClient, writeHostEtcdCerts } from './etcd-certs.js';
import { claimSlot, hostNetworkAvailable } from '../netns/network.js';
import { planNetwork } from '../netns/plan.js';
import { writeHostKubeconfig, writeKubeconfig } from './kubeconfig.js';

/**
 * The agent's kubelet API is served with a certificate from the cluster CA and trusts only the
 * API servers' client certificate from that CA, as kubelets and kube-apiserver trust each other.
 */
async function writeKubeletCerts(ca: CertKeyPair, p: HostPaths, apiserverCerts: string, host: string, address: string): Promise<void> {
  const serving = await issueServerCert(ca, { commonName: `system:node:${host}`, dnsNames: ['localhost', host, address] });
  writeFileAtomic(p.kubeletPki.cert, serving.certPem, 0o644);
  writeFileAtomic(p.kubeletPki.key, serving.keyPem, 0o600);
  writeFileAtomic(p.kubeletPki.clientCA, ca.certPem, 0o644);
  const client = await issueClientCert(ca, { commonName: 'system:kube-apiserver', organizations: ['kube-master'] });
  const files = kubeletClientFiles(apiserverCerts);
  writeFileAtomic(files.cert, client.certPem, 0o644);
  writeFileAtomic(files.key, client.keyPem, 0o600);
  writeFileAtomic(files.ca, ca.certPem, 0o644);
}

export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** The standard ports of a host with its own address, as on OpenShift's control-plane hosts. */
export const HOST_PORTS = { client: 2379, peer: 2380, metrics: 9978, metricsProxy: 9979, apiServer: 6443, operatorMetrics: 8443, kubelet: 10250 };
const PORTS_PER_SHARED_HOST = Object.keys(HOST_PORTS).length;

export interface CreateOptions {
  hosts: number;
  quotaBackendBytes: number;
  log: (line: string) => void;
  /** `hosts` (default when possible): a network namespace per host; `shared`: the machine's loopback. */
  network?: 'hosts' | 'shared';
}

/** A host's URLs: its own address at the standard ports, or loopback ports of its own. */
export function hostRecord(name: string, address: string, port: (key: keyof typeof HOST_PORTS) => number): HostRecord {
  return {
    name,
    address,
    clientURL: `https://${address}:${port('client')}`,
    peerURL: `https://${address}:${port('peer')}`,
    metricsURL: `https://${address}:${port('metrics')}`,
    metricsProxyURL: `https://${address}:${port('metricsProxy')}`,
    apiServerURL: `https://${address}:${port('apiServer')}`,
    operatorMetricsURL: `http://${address}:${port('operatorMetrics')}`,
    kubeletURL: `https://${address}:${port('kubelet')}`,
  };
}

/** Decides where each host lives on the network; says why when hosts must share the machine's. */
async function layOutNetwork(home: string, names: string[], o: CreateOptions): Promise<{ network: NetworkRecord; hosts: HostRecord[]; lbPort: number }> {
  const avail = o.network === 'shared' ? { ok: false, why: '--network shared' } : hostNetworkAvailable();
  if (avail.ok) {
    const id = randomBytes(3).toString('hex');
    const slot = claimSlot(id, home);
    const plan = planNetwork(id, slot, names.map((name) => ({ name, index: hostIndex(name) })));
    const [lbPort] = await freePorts(1);
    return {
      network: { mode: 'hosts', id, slot, gateway: plan.gateway },
      hosts: plan.hosts.map((h) => hostRecord(h.host, h.address, (k) => HOST_PORTS[k])),
      lbPort: lbPort!,
    };
  }
  if (o.network === 'hosts') throw new UserError(`hosts cannot have their own network here: ${avail.why}`);
  o.log(`hosts share this machine's network (${avail.why}): every feature but host isolate/heal works`);
  const ports = await freePorts(names.length * PORTS_PER_SHARED_HOST + 1);
  const keys = Object.keys(HOST_PORTS) as (keyof typeof HOST_PORTS)[];
  return {
    network: { mode: 'shared' },
    hosts: names.map((name, i) => hostRecord(name, '127.0.0.1', (k) => ports[i * PORTS_PER_SHARED_HOST + keys.indexOf(k)]!)),
    lbPort: ports[names.length * PORTS_PER_SHARED_HOST]!,
  };
}

/** Lays out a new home: hosts with their folders, network, certificates and revision 1 of each static pod. */
export async function createHome(home: string, o: CreateOptions): Promise<ClusterFile> {
  if (folderInUse(home) && !homeIsOurs(home)) {
    throw new UserError(`${home} exists and is not an etcd-ops home (no cluster.json): choose another --home or empty folder`);
  }
  const bins = etcdBinaries({ install: true, log: o.log });
  const names = hostNames(o.hosts);
  mkdirSync(home, { recursive: true });
  const net = await layOutNetwork(home, names, o);
  const cluster: ClusterFile = {
    apiVersion: 'etcd-ops.io/v1',
    kind: 'LocalControlPlane',
    clusterToken: `etcd-ops-${randomBytes(6).toString('hex')}`,
    createdAt: new Date().toISOString(),
    quotaBackendBytes: o.quotaBackendBytes,
    etcd: { bin: bins.etcd, version: etcdVersion(bins.etcd), ctl: bins.etcdctl },
    network: net.network,
    apiServer: { url: `https://127.0.0.1:${net.lbPort}`, compactionInterval: '5m' },
    hosts: net.hosts,
  };
  const creds = await createCredentials(home, names);
  const { signer } = await createEtcdPki(home);
  for (const host of cluster.hosts) await layOutHost(home, cluster, host, creds, signer);
  writeKubeconfig(home, cluster.apiServer.url, creds);
  // Written last: a home with a cluster file is complete.
  saveClusterFile(home, cluster);
  return cluster;
}

/** Where a host's agents and operator reach the API: the load balancer, through the bridge when hosts have their own network. */
export function internalApiURL(cluster: ClusterFile): string {
  const gw = cluster.network?.mode === 'hosts' ? cluster.network.gateway : undefined;
  return gw ? cluster.apiServer.url.replace('127.0.0.1', gw) : cluster.apiServer.url;
}

/**
 * One host's folders, certificates and revision 1 of its static pods (also for a host added
 * later), and the seed's scripts. A host that joins a running cluster (`host replace`) skips
 * revision 1 of etcd and the kube-apiserver (`firstRevisions: false`): it gets the operator's.
 */
export async function layOutHost(home: string, cluster: ClusterFile, host: HostRecord, creds: Credentials, signer: CertKeyPair, o: { firstRevisions?: boolean } = {}): Promise<void> {
  const first = o.firstRevisions ?? true;
  const p = hostPaths(home, host.name);
  for (const dir of [p.manifests, p.staticPodResources, p.log, p.kubeletDir]) mkdirSync(dir, { recursive: true });
  mkdirSync(p.etcdDataDir, { recursive: true, mode: 0o700 });
  const address = host.address ?? '127.0.0.1';
  await writeHostEtcdCerts(home, host.name, address, signer);
  if (first) installRevision(p, ETCD_POD, 1, etcdPod({ home, cluster, host, revision: 1 }), []);
  const certs = kubeApiserverCertsDir(home, host.name);
  const gateway = cluster.network?.gateway;
  // Clients reach an API server directly, or through the load balancer (TLS passes through it).
  const serving = await issueServerCert(creds.ca, { commonName: `kube-apiserver-${host.name}`, dnsNames: ['localhost', host.name, address, ...(gateway ? [gateway] : [])] });
  writeFileAtomic(join(certs, 'secrets/serving-cert/tls.crt'), serving.certPem, 0o644);
  writeFileAtomic(join(certs, 'secrets/serving-cert/tls.key'), serving.keyPem, 0o600);
  writeFileAtomic(join(certs, 'secrets/authentication/tokens.csv'), tokensCsv(creds.tokens), 0o600);
  writeApiserverEtcdClient(home, certs);
  await writeKubeletCerts(creds.ca, p, certs, host.name, address);
  if (first) {
    // Revision 1 is what the operator's revision 1 will be: identity for every component.
    const rev = kubeApiserverRevision({ home, cluster, host, revision: 1, encryptionConfig: renderEncryptionConfiguration(new Map()) });
    installRevision(p, KUBE_APISERVER_POD, 1, rev.pod, rev.files);
  }
  const api = internalApiURL(cluster);
  writeHostKubeconfig(home, host.name, api, creds, nodeUser(host.name));
  const opKubeconfig = join(revisionDir(p, OPERATOR_POD, 1), OPERATOR_KUBECONFIG);
  writeHostKubeconfig(home, host.name, api, creds, OPERATOR_USER, opKubeconfig);
  installRevision(p, OPERATOR_POD, 1, operatorPod(home, cluster, host, 1), []);
  writeHostTool(home, host.name, 'crictl', ['crictl']);
  writeHostScripts(home, host.name);
}

/** A host added to an existing home (`host replace`): its address on the home's network, or loopback ports of its own. */
export async function newHostRecord(cluster: ClusterFile, name: string): Promise<HostRecord> {
  const n = cluster.network;
  if (n?.mode === 'hosts' && n.id && n.slot !== undefined) {
    const names = [...cluster.hosts.map((h) => h.name), name];
    const plan = planNetwork(n.id, n.slot, names.map((x) => ({ name: x, index: hostIndex(x) })));
    const h = plan.hosts.find((x) => x.host === name)!;
    return hostRecord(name, h.address, (k) => HOST_PORTS[k]);
  }
  const ports = await freePorts(PORTS_PER_SHARED_HOST);
  const keys = Object.keys(HOST_PORTS) as (keyof typeof HOST_PORTS)[];
  return hostRecord(name, '127.0.0.1', (k) => ports[keys.indexOf(k)]!);
}
