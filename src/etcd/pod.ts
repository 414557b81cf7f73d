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
  const tls = o.host.clientURL.startsWith('https://');
  const c = p.etcdCerts;
  const etcdctl = o.cluster.etcd.ctl ?? 'etcdctl';
  const image = `localhost/etcd:${o.cluster.etcd.version}`;
  // Inside a host with its own network, localhost:2379 is that host's member, as on OpenShift.
  const ownNetwork = o.cluster.network?.mode === 'hosts';
  const listenClient = ownNetwork ? [o.host.clientURL, `https://127.0.0.1:${new URL(o.host.clientURL).port}`] : [o.host.clientURL];
  // The etcdctl container's identity is the node's peer certificate, as OpenShift's.
  const ctlTls = tls ? [{ name: 'ETCDCTL_CACERT', value: c.caBundle }, { name: 'ETCDCTL_CERT', value: c.peer.cert }, { name: 'ETCDCTL_KEY', value: c.peer.key }] : [];
  const tlsArgs = tls
    ? [
        `--cert-file=${c.serving.cert}`,
        `--key-file=${c.serving.key}`,
        `--trusted-ca-file=${c.caBundle}`,
        '--client-cert-auth=true',
        `--peer-cert-file=${c.peer.cert}`,
        `--peer-key-file=${c.peer.key}`,
        `--peer-trusted-ca-file=${c.caBundle}`,
        '--peer-client-cert-auth=true',
      ]
    : [];
  const metricsProxy =
    tls && o.host.metricsProxyURL
      ? [
          {
            // OpenShift's etcd-metrics: a grpc-proxy that serves the member's metrics on their own TLS port.
            name: 'etcd-metrics',
            image,
            command: [o.cluster.etcd.bin],
            args: [
              'grpc-proxy',
              'start',
              `--endpoints=${o.host.clientURL}`,
              `--metrics-addr=${o.host.metricsProxyURL}`,
              `--listen-addr=127.0.0.1:${Number(new URL(o.host.metricsProxyURL).port) - 2}`,
              '--advertise-client-url=',
              `--key=${c.metricsProxyClient.key}`,
              `--cert=${c.metricsProxyClient.cert}`,
              `--cacert=${c.caBundle}`,
              `--key-file=${c.metrics.key}`,
              `--cert-file=${c.metrics.cert}`,
              `--trusted-ca-file=${c.caBundle}`,
            ],
          },
        ]
      : [];
  const pod = staticPod({
    name: 'etcd',
    namespace: ETCD_NAMESPACE,
    revision: o.revision,
    labels: { app: 'etcd', 'k8s-app': 'etcd', etcd: 'true' },
    priorityClassName: 'system-node-critical',
    resourceDir,
    hostPaths: { 'data-dir': p.etcdDataDir, ...(tls ? { 'cert-dir': c.dir } : {}) },
    // As OpenShift's etcd pod: an etcdctl container first, the default for `kubectl exec`, with the
    // environment that makes a bare `etcdctl` talk to the members; then etcd; then etcd-metrics.
    sidecars: {
      defaultContainer: 'etcdctl',
      before: [
        {
          name: 'etcdctl',
          image,
          // Nothing but a place to exec into; sleep itself ends on SIGTERM, leaving no child behind.
          command: ['sleep', 'infinity'],
          env: [{ name: 'ETCDCTL_API', value: '3' }, ...ctlTls, { name: 'ETCDCTL_ENDPOINTS', value: members.map((m) => m.clientURL).join(',') }],
          workingDir: p.root,
        },
      ],
      after: metricsProxy,
    },
    container: {
      name: 'etcd',
      image,
      command: [o.cluster.etcd.bin],
      args: [
        '--name=$(NODE_NAME)',
        `--data-dir=${p.etcdDataDir}`,
        `--listen-client-urls=${listenClient.join(',')}`,
        `--advertise-client-urls=${o.host.clientURL}`,
        `--listen-peer-urls=${o.host.peerURL}`,
        `--initial-advertise-peer-urls=${o.host.peerURL}`,
        `--listen-metrics-urls=${o.host.metricsURL}`,
        `--initial-cluster=${members.map((m) => `${m.name}=${m.peerURL}`).join(',')}`,
        `--initial-cluster-token=${o.clusterToken ?? o.cluster.clusterToken}`,
        ...tlsArgs,
      ],
      env: [
        { name: 'NODE_NAME', value: o.host.name },
        { name: 'ETCD_INITIAL_CLUSTER_STATE', value: o.initialClusterState ?? 'new' },
        { name: 'ETCD_QUOTA_BACKEND_BYTES', value: String(o.cluster.quotaBackendBytes) },
        { name: 'ETCD_HEARTBEAT_INTERVAL', value: '100' },
        { name: 'ETCD_ELECTION_TIMEOUT', value: '1000' },
        // etcd 3.5's default, off in 3.4: a member cut off by a partition keeps its raft term
        // instead of raising it with every election it cannot win, so when the partition heals it
        // does not depose the leader (the robustness suite saw a leader change at every heal).
        { name: 'ETCD_PRE_VOTE', value: 'true' },
        { name: 'ETCD_SNAPSHOT_COUNT', value: '10000' },
        { name: 'ETCD_ENABLE_PPROF', value: 'false' },
      ],
      // Every listener wants a client certificate, so readiness is etcdctl with the node's own.
      readinessProbe: tls
        ? {
            exec: { command: [etcdctl, `--endpoints=${o.host.clientURL}`, `--cacert=${c.caBundle}`, `--cert=${c.peer.cert}`, `--key=${c.peer.key}`, '--dial-timeout=2s', '--command-timeout=3s', 'endpoint', 'health'] },
            periodSeconds: 5,
            timeoutSeconds: 5,
          }
        : {
            httpGet: { scheme: 'HTTP', host: '127.0.0.1', port: Number(new URL(o.host.clientURL).port), path: '/health' },
            periodSeconds: 5,
            timeoutSeconds: 3,
          },
      volumeMounts: [
        { name: 'resource-dir', mountPath: '/etc/kubernetes/static-pod-resources' },
        { name: 'data-dir', mountPath: '/var/lib/etcd' },
        ...(tls ? [{ name: 'cert-dir', mountPath: '/etc/kubernetes/static-pod-certs' }] : []),
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
