import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The home folder holds one local control plane: hosts laid out as real control-plane hosts. */
export function resolveHome(flag?: string): string {
  return resolve(flag ?? process.env.ETCD_OPS_HOME ?? join(homedir(), '.etcd-ops'));
}

export const CLUSTER_FILE = 'cluster.json';

/** The cluster CA and the users' tokens (keys and tokens 0600). */
export const pkiDir = (home: string) => join(home, 'pki');

/**
 * The etcd signer CA (its key stays here, 0600, and is never bundled in a backup) and the one
 * client identity (`etcd-client`) the CLI, the operator and the API servers use towards etcd.
 */
export function etcdPki(home: string): { dir: string; caCert: string; caKey: string; clientCert: string; clientKey: string } {
  const dir = join(home, 'pki', 'etcd');
  return { dir, caCert: join(dir, 'ca.crt'), caKey: join(dir, 'ca.key'), clientCert: join(dir, 'etcd-client.crt'), clientKey: join(dir, 'etcd-client.key') };
}

export interface CertFiles {
  cert: string;
  key: string;
}

/** A host's etcd certificates, where OpenShift keeps them (/etc/kubernetes/static-pod-certs). */
export interface EtcdHostCerts {
  dir: string;
  caBundle: string;
  serving: CertFiles;
  peer: CertFiles;
  metrics: CertFiles;
  metricsProxyClient: CertFiles;
}

/** kubectl's kubeconfig for the home: admin and developer contexts. */
export const kubeconfigPath = (home: string) => join(home, 'kubeconfig');

/** The load balancer lives outside the hosts, as an external one would. */
export function lbPaths(home: string): { dir: string; pidFile: string; logFile: string } {
  const dir = join(home, 'lb');
  return { dir, pidFile: join(dir, 'lb.pid'), logFile: join(dir, 'lb.log') };
}

/** The host's index in its name (master-3 → 3): it picks the host's address and link name. */
export function hostIndex(name: string): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}

export function hostNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `master-${i}`);
}

/** Where things live on one host, mirroring /etc/kubernetes, /var/lib/etcd and /var/log. */
export interface HostPaths {
  root: string;
  manifests: string;
  staticPodResources: string;
  etcdDataDir: string;
  log: string;
  podLogs: string;
  /** Our small kubelet's state: its pid file and the pod status it reports. */
  kubeletDir: string;
  kubeletPidFile: string;
  podStatusFile: string;
  kubeletLog: string;
  /** The member's certificates: serving, peer and metrics, and the etcd CA bundle. */
  etcdCerts: EtcdHostCerts;
  /** The agent's kubelet API: its serving pair and the CA whose clients (the API servers) it trusts. */
  kubeletPki: { cert: string; key: string; clientCA: string };
}

export function hostPaths(home: string, host: string): HostPaths {
  const root = join(home, 'hosts', host);
  const kubeletDir = join(root, 'var/lib/kubelet');
  const certs = join(root, 'etc/kubernetes/static-pod-certs');
  const allCerts = (name: string) => ({ cert: join(certs, 'secrets/etcd-all-certs', `${name}.crt`), key: join(certs, 'secrets/etcd-all-certs', `${name}.key`) });
  return {
    root,
    manifests: join(root, 'etc/kubernetes/manifests'),
    staticPodResources: join(root, 'etc/kubernetes/static-pod-resources'),
    etcdDataDir: join(root, 'var/lib/etcd'),
    log: join(root, 'var/log'),
    podLogs: join(root, 'var/log/pods'),
    kubeletDir,
    kubeletPidFile: join(kubeletDir, 'kubelet.pid'),
    podStatusFile: join(kubeletDir, 'pods.json'),
    kubeletLog: join(root, 'var/log/kubelet.log'),
    etcdCerts: {
      dir: certs,
      caBundle: join(certs, 'configmaps/etcd-serving-ca/ca-bundle.crt'),
      serving: allCerts(`etcd-serving-${host}`),
      peer: allCerts(`etcd-peer-${host}`),
      metrics: allCerts(`etcd-serving-metrics-${host}`),
      metricsProxyClient: allCerts(`etcd-metrics-proxy-client-${host}`),
    },
    kubeletPki: { cert: join(kubeletDir, 'pki/kubelet.crt'), key: join(kubeletDir, 'pki/kubelet.key'), clientCA: join(kubeletDir, 'pki/client-ca.crt') },
  };
}

/** A host's own kubeconfig, as a kubelet has /etc/kubernetes/kubeconfig. */
export const hostKubeconfigPath = (home: string, host: string) => join(hostPaths(home, host).root, 'etc/kubernetes/kubeconfig');
