import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KUBE_APISERVER_POD, kubeApiserverCertsDir, kubeApiserverRevision, kubeletClientFiles } from '../apiserver/pod.js';
import { etcdBinaries, etcdVersion } from '../etcd/binaries.js';
import { ETCD_POD, etcdPod } from '../etcd/pod.js';
import { folderInUse, homeIsOurs, saveClusterFile, type ClusterFile, type HostRecord } from '../home/cluster-file.js';
import { hostNames, hostPaths, type HostPaths } from '../home/layout.js';
import { renderEncryptionConfiguration } from '../operator/encryption/state.js';
import { OPERATOR_KUBECONFIG, OPERATOR_POD, operatorPod } from '../operator/pod.js';
import { issueClientCert, issueServerCert, type CertKeyPair } from '../pki/index.js';
import { installRevision, revisionDir } from '../staticpod/install.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';
import { freePorts } from '../util/ports.js';
import { createCredentials, nodeUser, OPERATOR_USER, tokensCsv, type Credentials } from './credentials.js';
import { writeHostScripts } from './host-scripts.js';
import { writeHostKubeconfig, writeKubeconfig } from './kubeconfig.js';

/**
 * The agent's kubelet API is served with a certificate from the cluster CA and trusts only the
 * API servers' client certificate from that CA, as kubelets and kube-apiserver trust each other.
 */
async function writeKubeletCerts(ca: CertKeyPair, p: HostPaths, apiserverCerts: string, host: string): Promise<void> {
  const serving = await issueServerCert(ca, { commonName: `system:node:${host}`, dnsNames: ['localhost', host] });
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

export interface CreateOptions {
  hosts: number;
  quotaBackendBytes: number;
  log: (line: string) => void;
}

/** Ports each host listens on: etcd client, peer and metrics, its API server, its operator's metrics, its kubelet API. */
export const HOST_PORTS = 6;

/** A host's addresses, from its HOST_PORTS ports: one place, for `up` and for `host replace`. */
export function hostRecord(name: string, ports: number[]): HostRecord {
  return {
    name,
    clientURL: `http://127.0.0.1:${ports[0]}`,
    peerURL: `http://127.0.0.1:${ports[1]}`,
    metricsURL: `http://127.0.0.1:${ports[2]}`,
    apiServerURL: `https://127.0.0.1:${ports[3]}`,
    operatorMetricsURL: `http://127.0.0.1:${ports[4]}`,
    kubeletURL: `https://127.0.0.1:${ports[5]}`,
  };
}

/** Lays out a new home: hosts with their folders, ports, and revision 1 of the etcd static pod. */
export async function createHome(home: string, o: CreateOptions): Promise<ClusterFile> {
  if (folderInUse(home) && !homeIsOurs(home)) {
    throw new UserError(`${home} exists and is not an etcd-ops home (no cluster.json): choose another --home or empty folder`);
  }
  const bins = etcdBinaries({ install: true, log: o.log });
  const names = hostNames(o.hosts);
  const ports = await freePorts(names.length * HOST_PORTS + 1);
  const cluster: ClusterFile = {
    apiVersion: 'etcd-ops.io/v1',
    kind: 'LocalControlPlane',
    clusterToken: `etcd-ops-${randomBytes(6).toString('hex')}`,
    createdAt: new Date().toISOString(),
    quotaBackendBytes: o.quotaBackendBytes,
    etcd: { bin: bins.etcd, version: etcdVersion(bins.etcd) },
    apiServer: { url: `https://127.0.0.1:${ports[names.length * HOST_PORTS]}`, compactionInterval: '5m' },
    hosts: names.map((name, i) => hostRecord(name, ports.slice(i * HOST_PORTS, (i + 1) * HOST_PORTS))),
  };
  mkdirSync(home, { recursive: true });
  const creds = await createCredentials(home, names);
  for (const host of cluster.hosts) await layoutHost(home, cluster, host, creds, { firstRevisions: true });
  writeKubeconfig(home, cluster.apiServer.url, creds);
  // Written last: a home with a cluster file is complete.
  saveClusterFile(home, cluster);
  return cluster;
}

/**
 * One host's folders and host-level files: the API server's serving certificate and token file,
 * the node's and the operator's kubeconfigs, the operator's static pod, the seed's scripts; with
 * `firstRevisions`, revision 1 of etcd and the kube-apiserver too (a new cluster). A host that
 * joins a running cluster (`host replace`) gets its revisions from the operator instead.
 */
export async function layoutHost(home: string, cluster: ClusterFile, host: HostRecord, creds: Credentials, o: { firstRevisions: boolean }): Promise<void> {
  const p = hostPaths(home, host.name);
  for (const dir of [p.manifests, p.staticPodResources, p.log, p.kubeletDir]) mkdirSync(dir, { recursive: true });
  mkdirSync(p.etcdDataDir, { recursive: true, mode: 0o700 });
  if (o.firstRevisions) installRevision(p, ETCD_POD, 1, etcdPod({ home, cluster, host, revision: 1 }), []);
  const certs = kubeApiserverCertsDir(home, host.name);
  const serving = await issueServerCert(creds.ca, { commonName: `kube-apiserver-${host.name}`, dnsNames: ['localhost', host.name] });
  writeFileAtomic(join(certs, 'secrets/serving-cert/tls.crt'), serving.certPem, 0o644);
  writeFileAtomic(join(certs, 'secrets/serving-cert/tls.key'), serving.keyPem, 0o600);
  writeFileAtomic(join(certs, 'secrets/authentication/tokens.csv'), tokensCsv(creds.tokens), 0o600);
  await writeKubeletCerts(creds.ca, p, certs, host.name);
  if (o.firstRevisions) {
    // Revision 1 is what the operator's revision 1 will be: identity for every component.
    const rev = kubeApiserverRevision({ home, cluster, host, revision: 1, encryptionConfig: renderEncryptionConfiguration(new Map()) });
    installRevision(p, KUBE_APISERVER_POD, 1, rev.pod, rev.files);
  }
  writeHostKubeconfig(home, host.name, cluster.apiServer.url, creds, nodeUser(host.name));
  const opKubeconfig = join(revisionDir(p, OPERATOR_POD, 1), OPERATOR_KUBECONFIG);
  writeHostKubeconfig(home, host.name, cluster.apiServer.url, creds, OPERATOR_USER, opKubeconfig);
  installRevision(p, OPERATOR_POD, 1, operatorPod(home, cluster, host, 1), []);
  writeHostScripts(home, host.name);
}
