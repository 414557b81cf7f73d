import type { ClusterFile, HostRecord } from '../home/cluster-file.js';
import { hostPaths } from '../home/layout.js';
import { revisionDir } from '../staticpod/install.js';
import { staticPod, type Pod } from '../staticpod/pod.js';
import { selfCommand } from '../version.js';

export const ETCD_POD = 'etcd-pod';
export const ETCD_NAMESPACE = 'openshift-etcd';

export interface EtcdPodOptions {
  home: string;
  cluster: ClusterFile;
  host: HostRecord;
  revision: number;
  /** `new` for a fresh cluster; `existing` for a member joining a running one. */
  initialClusterState?: 'new' | 'existing';
  /** Members this one starts with; defaults to every host in the cluster file. */
  initialCluster?: HostRecord[];
  clusterToken?: string;
}

/**
 * The etcd static pod, shaped like OpenShift's etcd-pod.yaml: namespace openshift-etcd,
 * labels with the revision, and hostPath volumes for the revision's resources and the data dir.
 * Flags are spelled out in args so an admin reading the manifest sees what runs.
 */
export function etcdPod(o: EtcdPodOptions): Pod {
  const p = hostPaths(o.home, o.host.name);
  const members = o.initialCluster ?? o.cluster.hosts;
  const resourceDir = revisionDir(p, ETCD_POD, o.revision);
  const pod = staticPod({
    name: 'etcd',
    namespace: ETCD_NAMESPACE,
    revision: o.revision,
    labels: { app: 'etcd', 'k8s-app': 'etcd', etcd: 'true' },
    priorityClassName: 'system-node-critical',
    resourceDir,
    hostPaths: { 'data-dir': p.etcdDataDir },
    // As OpenShift's etcd pod: an etcdctl container first, the default for `kubectl exec`, with the
    // environment that makes a bare `etcdctl` talk to this host's member.
    sidecars: {
      defaultContainer: 'etcdctl',
      before: [
        {
          name: 'etcdctl',
          image: `localhost/etcd:${o.cluster.etcd.version}`,
          command: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; sleep infinity & wait'],
          env: [
            { name: 'ETCDCTL_API', value: '3' },
            { name: 'ETCDCTL_ENDPOINTS', value: members.map((m) => m.clientURL).join(',') },
          ],
          workingDir: p.root,
        },
      ],
    },
    container: {
      name: 'etcd',
      image: `localhost/etcd:${o.cluster.etcd.version}`,
      command: [o.cluster.etcd.bin],
      args: [
        '--name=$(NODE_NAME)',
        `--data-dir=${p.etcdDataDir}`,
        `--listen-client-urls=${o.host.clientURL}`,
        `--advertise-client-urls=${o.host.clientURL}`,
        `--listen-peer-urls=${o.host.peerURL}`,
        `--initial-advertise-peer-urls=${o.host.peerURL}`,
        `--listen-metrics-urls=${o.host.metricsURL}`,
        `--initial-cluster=${members.map((m) => `${m.name}=${m.peerURL}`).join(',')}`,
        `--initial-cluster-token=${o.clusterToken ?? o.cluster.clusterToken}`,
      ],
      env: [
        { name: 'NODE_NAME', value: o.host.name },
        { name: 'ETCD_INITIAL_CLUSTER_STATE', value: o.initialClusterState ?? 'new' },
        { name: 'ETCD_QUOTA_BACKEND_BYTES', value: String(o.cluster.quotaBackendBytes) },
        { name: 'ETCD_HEARTBEAT_INTERVAL', value: '100' },
        { name: 'ETCD_ELECTION_TIMEOUT', value: '1000' },
        { name: 'ETCD_SNAPSHOT_COUNT', value: '10000' },
        { name: 'ETCD_ENABLE_PPROF', value: 'false' },
      ],
      readinessProbe: {
        httpGet: { scheme: 'HTTP', host: '127.0.0.1', port: Number(new URL(o.host.clientURL).port), path: '/health' },
        periodSeconds: 5,
        timeoutSeconds: 3,
      },
      volumeMounts: [
        { name: 'resource-dir', mountPath: '/etc/kubernetes/static-pod-resources' },
        { name: 'data-dir', mountPath: '/var/lib/etcd' },
      ],
    },
  });
  if (o.initialClusterState === 'existing') {
    const others = o.cluster.hosts.filter((h) => h.name !== o.host.name).map((h) => h.clientURL);
    for (const c of pod.spec.containers) if (c.name === 'etcd') Object.assign(c, discoverFirst(c.command, c.args ?? [], others));
  }
  return pod;
}

/**
 * A member joining a running cluster asks it first (cluster-etcd-operator's discover step): the
 * shell runs `etcd-ops etcd-discover`, then execs etcd in its place (same pid, so the kubelet
 * stops etcd itself) with the --initial-cluster discovery printed, which etcd takes over the
 * manifest's since the last of a repeated flag wins.
 */
export function discoverFirst(command: string[], args: string[], endpoints: string[]): { command: string[]; args: string[] } {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const discover = [...selfCommand, 'etcd-discover', `--endpoints=${endpoints.join(',')}`, '--'].map(q).join(' ');
  // `$( ` with a space: the kubelet's $(VAR) expansion must leave the shell's command substitution alone.
  const script = `set -e; extra=$( ${discover} "$@" ); exec "$@" $extra`;
  return { command: ['/bin/sh', '-c', script, 'etcd'], args: [...command, ...args] };
}
