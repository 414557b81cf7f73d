import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The home folder holds one local control plane: hosts laid out as real control-plane hosts. */
export function resolveHome(flag?: string): string {
  return resolve(flag ?? process.env.ETCD_OPS_HOME ?? join(homedir(), '.etcd-ops'));
}

export const CLUSTER_FILE = 'cluster.json';

/** The cluster CA and the users' tokens (keys and tokens 0600). */
export const pkiDir = (home: string) => join(home, 'pki');

/** kubectl's kubeconfig for the home: admin and developer contexts. */
export const kubeconfigPath = (home: string) => join(home, 'kubeconfig');

/** The load balancer lives outside the hosts, as an external one would. */
export function lbPaths(home: string): { dir: string; pidFile: string; logFile: string } {
  const dir = join(home, 'lb');
  return { dir, pidFile: join(dir, 'lb.pid'), logFile: join(dir, 'lb.log') };
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
  /** The agent's kubelet API: its serving pair and the CA whose clients (the API servers) it trusts. */
  kubeletPki: { cert: string; key: string; clientCA: string };
}

export function hostPaths(home: string, host: string): HostPaths {
  const root = join(home, 'hosts', host);
  const kubeletDir = join(root, 'var/lib/kubelet');
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
    kubeletPki: { cert: join(kubeletDir, 'pki/kubelet.crt'), key: join(kubeletDir, 'pki/kubelet.key'), clientCA: join(kubeletDir, 'pki/client-ca.crt') },
  };
}

/** A host's own kubeconfig, as a kubelet has /etc/kubernetes/kubeconfig. */
export const hostKubeconfigPath = (home: string, host: string) => join(hostPaths(home, host).root, 'etc/kubernetes/kubeconfig');
