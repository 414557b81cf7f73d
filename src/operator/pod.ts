import { join } from 'node:path';
import type { ClusterFile, HostRecord } from '../home/cluster-file.js';
import { etcdPki, hostPaths } from '../home/layout.js';
import { revisionDir } from '../staticpod/install.js';
import { staticPod, type Pod } from '../staticpod/pod.js';
import { selfCommand, version } from '../version.js';

export const OPERATOR_POD = 'etcd-ops-operator-pod';
export const OPERATOR_KUBECONFIG = 'secrets/kubeconfig/kubeconfig';

/** The operator as a static pod on one host; its kubeconfig lives in its resources dir. */
export function operatorPod(home: string, cluster: ClusterFile, host: HostRecord, revision: number): Pod {
  const dir = revisionDir(hostPaths(home, host.name), OPERATOR_POD, revision);
  const [node, ...args] = selfCommand;
  return staticPod({
    name: 'etcd-ops-operator',
    namespace: 'openshift-kube-apiserver-operator',
    revision,
    labels: { app: 'etcd-ops-operator' },
    resourceDir: dir,
    container: {
      name: 'operator',
      image: `localhost/etcd-ops-operator:${version}`,
      command: [node],
      args: [
        ...args,
        'operator',
        `--kubeconfig=${join(dir, OPERATOR_KUBECONFIG)}`,
        `--etcd-endpoints=${cluster.hosts.map((h) => h.clientURL).join(',')}`,
        '--node-name=$(NODE_NAME)',
        `--metrics-port=${new URL(host.operatorMetricsURL).port}`,
        `--metrics-address=${host.address ?? '127.0.0.1'}`,
        // The operator uses the home's etcd-client identity, as the CLI does.
        ...(host.clientURL.startsWith('https://') ? [`--etcd-cacert=${etcdPki(home).caCert}`, `--etcd-cert=${etcdPki(home).clientCert}`, `--etcd-key=${etcdPki(home).clientKey}`] : []),
        `--home=${home}`,
      ],
      env: [{ name: 'NODE_NAME', value: host.name }],
    },
  });
}
