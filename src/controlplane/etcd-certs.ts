/**
 * The etcd PKI on disk: the signer and the shared `etcd-client` identity under `<home>/pki/etcd`,
 * each host's serving, peer and metrics certificates in its static-pod-certs, and the API server's
 * copy of the client identity. Keys are 0600. Nothing here rotates certificates.
 */
import { existsSync, readFileSync } from 'node:fs';
import { etcdPki, hostPaths } from '../home/layout.js';
import type { CertKeyPair } from '../pki/index.js';
import { createEtcdSigner, issueEtcdClientCert, issueEtcdNodeCerts } from '../pki/etcd.js';
import { writeFileAtomic } from '../util/fsx.js';
import { apiserverEtcdClientFiles } from '../apiserver/pod.js';

function writePair(files: { cert: string; key: string }, pair: CertKeyPair): void {
  writeFileAtomic(files.key, pair.keyPem, 0o600);
  writeFileAtomic(files.cert, pair.certPem, 0o644);
}

/** The signer and the client identity, made once per home. */
export async function createEtcdPki(home: string): Promise<{ signer: CertKeyPair; client: CertKeyPair }> {
  const p = etcdPki(home);
  const signer = await createEtcdSigner();
  const client = await issueEtcdClientCert(signer);
  writePair({ cert: p.caCert, key: p.caKey }, signer);
  writePair({ cert: p.clientCert, key: p.clientKey }, client);
  return { signer, client };
}

export function loadEtcdSigner(home: string): CertKeyPair {
  const p = etcdPki(home);
  return { certPem: readFileSync(p.caCert, 'utf8'), keyPem: readFileSync(p.caKey, 'utf8') };
}

export function hasEtcdPki(home: string): boolean {
  return existsSync(etcdPki(home).caKey);
}

/** A host's member certificates, for its name and address (a new or replaced host gets its own). */
export async function writeHostEtcdCerts(home: string, host: string, address: string, signer = loadEtcdSigner(home)): Promise<void> {
  const c = hostPaths(home, host).etcdCerts;
  const certs = await issueEtcdNodeCerts(signer, { name: host, address });
  writePair(c.serving, certs.serving);
  writePair(c.peer, certs.peer);
  writePair(c.metrics, certs.metrics);
  writePair(c.metricsProxyClient, certs.metricsProxyClient);
  writeFileAtomic(c.caBundle, signer.certPem, 0o644);
}

export function writeApiserverEtcdClient(home: string, certsDir: string): void {
  const p = etcdPki(home);
  const f = apiserverEtcdClientFiles(certsDir);
  writeFileAtomic(f.caFile, readFileSync(p.caCert), 0o644);
  writeFileAtomic(f.certFile, readFileSync(p.clientCert), 0o644);
  writeFileAtomic(f.keyFile, readFileSync(p.clientKey), 0o600);
}

