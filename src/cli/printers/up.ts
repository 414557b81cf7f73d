import { memberIdHex } from '../../etcd/ids.js';
import type { EndpointStatus } from '../../etcd/status.js';
import type { ClusterFile } from '../../home/cluster-file.js';
import { columns } from '../../util/table.js';

/** What `up` prints once the control plane is up: the members (statuses in host order) and what to do next. */
export function printUpSummary(home: string, cluster: ClusterFile, statuses: EndpointStatus[]): string {
  const leaderId = statuses.find((s) => s.status)?.status?.leader;
  const rows = cluster.hosts.map((h, i) => {
    const s = statuses[i].status;
    return [h.name, s ? memberIdHex(s.header.member_id) : '?', h.clientURL, s ? (s.header.member_id === leaderId ? 'leader' : 'follower') : (statuses[i].error ?? '')];
  });
  const leader = rows.find((r) => r[3] === 'leader')?.[0] ?? 'none';
  const eps = cluster.hosts.map((h) => h.clientURL).join(',');
  const homeFlag = process.env.ETCD_OPS_HOME === home ? '' : ` --home ${home}`;
  return [
    '',
    `The local control plane is up: ${cluster.hosts.length} etcd ${cluster.etcd.version} members, leader ${leader}.`,
    '',
    columns(['MEMBER', 'ID', 'CLIENT URL', 'ROLE'], rows),
    '',
    `API server: ${cluster.apiServer.url} (load balancer over ${cluster.hosts.length} instances)`,
    `Kubeconfig: ${home}/kubeconfig (contexts admin and developer)`,
    `Home: ${home}`,
    '',
    'Next:',
    `  export KUBECONFIG=${home}/kubeconfig; kubectl get kubeapiserver cluster -o yaml`,
    `  etcd-ops endpoint status${homeFlag} -w table     # the members, as etcdctl shows them`,
    `  etcd-ops ps${homeFlag}                           # what each host's agent runs`,
    `  etcdctl --endpoints=${eps} endpoint status -w table`,
    `  etcd-ops down${homeFlag}                         # stops everything, keeps the data`,
    '',
  ].join('\n');
}
