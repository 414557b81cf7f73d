/**
 * The etcd PKI, shaped like OpenShift's: an etcd signer CA that issues, per node, a serving
 * certificate for the client port, a peer certificate and a metrics serving certificate, and one
 * `etcd-client` certificate for the API servers, the operator, the agents and the CLI.
 * Pure apart from the random numbers: PEM in, PEM out.
 */
import { createCA, issueClientCert, issueServerCert, type CertKeyPair } from './pki.js';

export interface EtcdNode {
  name: string;
  /** The node's address (what peers and clients dial); 127.0.0.1 and ::1 are always in the SANs. */
  address: string;
}

export interface EtcdNodeCerts {
  serving: CertKeyPair;
  peer: CertKeyPair;
  metrics: CertKeyPair;
  /** The etcd-metrics proxy's identity towards its member: etcd's grpc-proxy refuses a client certificate with a CN. */
  metricsProxyClient: CertKeyPair;
}

export const ETCD_SIGNER_CN = 'etcd-signer';
export const ETCD_CLIENT_CN = 'etcd-client';

export function createEtcdSigner(): Promise<CertKeyPair> {
  return createCA({ commonName: ETCD_SIGNER_CN });
}

/** SANs as OpenShift's: localhost, the node's name and address, and loopback (added by issueServerCert). */
function sans(n: EtcdNode): string[] {
  return ['localhost', n.name, `etcd.kube-system.svc`, n.address];
}

export async function issueEtcdNodeCerts(signer: CertKeyPair, n: EtcdNode): Promise<EtcdNodeCerts> {
  const [serving, peer, metrics, metricsProxyClient] = await Promise.all([
    // Serving and peer certificates are also client certificates: members dial each other with them,
    // and the etcdctl container uses the peer pair as its client identity, as on OpenShift.
    issueServerCert(signer, { commonName: `system:etcd-server:${n.name}`, dnsNames: sans(n) }),
    issueServerCert(signer, { commonName: `system:etcd-peer:${n.name}`, dnsNames: sans(n) }),
    issueServerCert(signer, { commonName: `system:etcd-metric:${n.name}`, dnsNames: sans(n), clientAuth: false }),
    issueClientCert(signer, { commonName: '', organizations: ['system:etcd-metrics'] }),
  ]);
  return { serving, peer, metrics, metricsProxyClient };
}

export function issueEtcdClientCert(signer: CertKeyPair): Promise<CertKeyPair> {
  return issueClientCert(signer, { commonName: ETCD_CLIENT_CN, organizations: ['system:etcd'] });
}

/** File names as OpenShift's etcd-all-certs secret holds them. */
export const etcdCertNames = (node: string) => ({
  serving: `etcd-serving-${node}`,
  peer: `etcd-peer-${node}`,
  metrics: `etcd-serving-metrics-${node}`,
  metricsProxyClient: `etcd-metrics-proxy-client-${node}`,
});
