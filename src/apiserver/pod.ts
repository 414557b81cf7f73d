import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ClusterFile, HostRecord } from '../home/cluster-file.js';
import { hostPaths } from '../home/layout.js';
import { revisionDir, type RevisionFile } from '../staticpod/install.js';
import { staticPod, type Pod } from '../staticpod/pod.js';
import { selfCommand, version } from '../version.js';

export const KUBE_APISERVER_POD = 'kube-apiserver-pod';
export const KUBE_APISERVER_NAMESPACE = 'openshift-kube-apiserver';
export const ENCRYPTION_CONFIG_PATH = 'secrets/encryption-config/encryption-config';
export const CONFIG_PATH = 'configmaps/config/config.yaml';

/**
 * Host files that do not change with revisions (as OpenShift's kube-apiserver-certs):
 * the serving certificate and the token file.
 */
export function kubeApiserverCertsDir(home: string, host: string): string {
  return join(hostPaths(home, host).staticPodResources, 'kube-apiserver-certs');
}

/** The API server's etcd client identity in its certs dir, as OpenShift's etcd-client secret. */
export function apiserverEtcdClientFiles(certsDir: string): { caFile: string; certFile: string; keyFile: string } {
  return {
    caFile: join(certsDir, 'configmaps/etcd-serving-ca/ca-bundle.crt'),
    certFile: join(certsDir, 'secrets/etcd-client/tls.crt'),
    keyFile: join(certsDir, 'secrets/etcd-client/tls.key'),
  };
}

/** The API server's client identity towards the agents' kubelet API, and the CA it checks them with. */
export function kubeletClientFiles(certsDir: string): { cert: string; key: string; ca: string } {
  return {
    cert: join(certsDir, 'secrets/kubelet-client/tls.crt'),
    key: join(certsDir, 'secrets/kubelet-client/tls.key'),
    ca: join(certsDir, 'configmaps/kubelet-serving-ca/ca-bundle.crt'),
  };
}

export interface KubeApiserverRevision {
  home: string;
  cluster: ClusterFile;
  host: HostRecord;
  revision: number;
  /** The EncryptionConfiguration this revision runs with (YAML). */
  encryptionConfig: string;
}

/** The pod and the files of one revision, rendered for one host: paths and ports are the host's. */
export function kubeApiserverRevision(r: KubeApiserverRevision): { pod: Pod; files: RevisionFile[] } {
  const p = hostPaths(r.home, r.host.name);
  const dir = revisionDir(p, KUBE_APISERVER_POD, r.revision);
  const certs = kubeApiserverCertsDir(r.home, r.host.name);
  const port = Number(new URL(r.host.apiServerURL).port);
  const config = {
    apiVersion: 'etcd-ops.io/v1',
    kind: 'APIServerConfig',
    nodeName: r.host.name,
    // In its own network namespace the host is the machine: listen on all of its addresses.
    bindAddress: r.cluster.network?.mode === 'hosts' ? '0.0.0.0' : '127.0.0.1',
    port,
    servingCert: { certFile: join(certs, 'secrets/serving-cert/tls.crt'), keyFile: join(certs, 'secrets/serving-cert/tls.key') },
    etcd: {
      endpoints: r.cluster.hosts.map((h) => h.clientURL),
      ...(r.cluster.hosts.some((h) => h.clientURL.startsWith('https://')) ? apiserverEtcdClientFiles(certs) : {}),
    },
    authentication: { tokenFile: join(certs, 'secrets/authentication/tokens.csv') },
    kubeletClient: kubeletClientFiles(certs),
    encryptionConfigFile: join(dir, ENCRYPTION_CONFIG_PATH),
    compactionInterval: r.cluster.apiServer.compactionInterval,
    // Under the pod's 3 s grace period, so a restart for a new revision is a clean exit.
    shutdownGracePeriod: '2s',
  };
  const [node, ...args] = selfCommand;
  const pod = staticPod({
    name: 'kube-apiserver',
    namespace: KUBE_APISERVER_NAMESPACE,
    revision: r.revision,
    labels: { app: 'openshift-kube-apiserver', apiserver: 'true' },
    priorityClassName: 'system-node-critical',
    resourceDir: dir,
    hostPaths: { 'cert-dir': certs },
    container: {
      name: 'kube-apiserver',
      // Named like OpenShift's kube-apiserver image, so `crictl ps | grep etcd` shows only etcd, as on a real host.
      image: `localhost/ose-hyperkube:${version}`,
      command: [node],
      args: [...args, 'apiserver', `--config=${join(dir, CONFIG_PATH)}`],
      env: [{ name: 'NODE_NAME', value: r.host.name }],
      readinessProbe: {
        httpGet: { scheme: 'HTTPS', host: r.host.address ?? '127.0.0.1', port, path: '/readyz' },
        periodSeconds: 5,
        timeoutSeconds: 3,
      },
    },
  });
  return {
    pod,
    files: [
      { path: CONFIG_PATH, data: stringify(config) },
      { path: ENCRYPTION_CONFIG_PATH, data: r.encryptionConfig, mode: 0o600 },
    ],
  };
}
