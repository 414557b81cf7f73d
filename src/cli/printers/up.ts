import { memberIdHex } from '../../etcd/ids.js';
import type { EndpointStatus } from '../../etcd/status.js';
import { etcdUsesTls, type ClusterFile } from '../../home/cluster-file.js';
import { etcdPki } from '../../home/layout.js';
import { columns } from '../../util/table.js';

/** What `up` prints once the control plane is up: the members (statuses in host order) and what to do next. */
/**
 * The environment that points the plain `etcdctl` binary at the home's members, with the
 * home's etcd-client certificate, as OpenShift's etcdctl container sets it.
 */
export function etcdctlEnv(home: string, cluster: ClusterFile): Array<[string, string]> {
  const env: Array<[string, string]> = [
    ['ETCDCTL_API', '3'],
    ['ETCDCTL_ENDPOINTS', cluster.hosts.map((h) => h.clientURL).join(',')],
  ];
  if (etcdUsesTls(cluster)) {
    const p = etcdPki(home);
    env.push(['ETCDCTL_CACERT', p.caCert], ['ETCDCTL_CERT', p.clientCert], ['ETCDCTL_KEY', p.clientKey]);
  }
  return env;
}

export function printUpSummary(home: string, cluster: ClusterFile, statuses: EndpointStatus[]): string {
  const leaderId = statuses.find((s) => s.status)?.status?.leader;
  const rows = cluster.hosts.map((h, i) => {
    const s = statuses[i].status;
    return [h.name, s ? memberIdHex(s.header.member_id) : '?', h.clientURL, s ? (s.header.member_id === leaderId ? 'leader' : 'follower') : (statuses[i].error ?? '')];
  });
  const leader = rows.find((r) => r[3] === 'leader')?.[0] ?? 'none';
  const homeFlag = process.env.ETCD_OPS_HOME === home ? '' : ` --home ${home}`;
  return [
    '',
    `The local control plane is up: ${cluster.hosts.length} etcd ${cluster.etcd.version} members, leader ${leader}.`,
    '',
    columns(['MEMBER', 'ID', 'CLIENT URL', 'ROLE'], rows),
    '',
    `API server: ${cluster.apiServer.url} (load balancer over ${cluster.hosts.length} instances)`,
    cluster.network?.mode === 'hosts'
      ? `Network: each host in its own network namespace on ${cluster.network.gateway?.replace(/\.1$/, '.0')}/24 (etcd at :2379, API at :6443); etcd over mutual TLS`
      : `Network: the hosts share this machine's network${etcdUsesTls(cluster) ? '; etcd over mutual TLS' : ''}`,
    `Kubeconfig: ${home}/kubeconfig (contexts admin and developer)`,
    `Home: ${home}`,
    '',
    'Next:',
    `  export KUBECONFIG=${home}/kubeconfig; kubectl get kubeapiserver cluster -o yaml`,
    `  etcd-ops endpoint status${homeFlag} -w table     # the members, as etcdctl shows them`,
    `  etcd-ops ps${homeFlag}                           # what each host's agent runs`,
    '  etcdctl endpoint status -w table                 # with this environment:',
    ...etcdctlEnv(home, cluster).map(([k, v]) => `    export ${k}=${v}`),
    `  etcd-ops down${homeFlag}                         # stops everything, keeps the data`,
    '',
  ].join('\n');
}
