import { createEtcdClient } from '../etcd/client.js';
import { ELECTION_DEFAULTS, Election } from './election.js';
import { OPERATOR_ELECTION } from '../etcd/own-keys.js';
import { DEFAULT_DIAL_TIMEOUT_MS, type Connection } from '../etcd/endpoints.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { sleep } from '../util/time.js';
import type { OperatorContext, OperatorOptions } from './context.js';
import { syncConfigSources } from './config-observer.js';
import { syncEncryption } from './encryption/controllers.js';
import { DEFAULT_ROTATION_INTERVAL_MS } from './encryption/observe.js';
import { MigrationWorkers } from './encryption/workers.js';
import { observeSpace, syncDefrag } from './defrag.js';
import { observeMembers, syncEtcdMembers } from './etcd-members.js';
import { syncMembership } from './etcd-membership.js';
import { existingNodes } from './nodes.js';
import { exitOnNewCluster } from './cluster-identity.js';
import { NODE_LIFECYCLE_SYNC_MS, syncNodeLifecycle } from './node-lifecycle.js';
import { OperatorMetrics } from './metrics.js';
import { BackupMetrics } from './backup-metrics.js';
import { syncBackups } from './backup.js';
import { loadClusterFile } from '../home/cluster-file.js';
import { sampleRevision } from './revision-sampler.js';
import { ETCD, KUBE_APISERVER } from './rollout/operands.js';
import { syncInstalls } from './rollout/installer.js';
import { syncRevisions } from './rollout/revision.js';

export interface OperatorFlags {
  kubeconfig: string;
  etcdEndpoints: string[];
  etcdTls?: Connection['tls'];
  nodeName: string;
  resyncMs: number;
  /** Where to serve Prometheus metrics; 0: nowhere. */
  metricsPort: number;
  metricsAddress?: string;
  /** The home the hosts live in: the backup controller writes to their folders. */
  home?: string;
}

/**
 * 15 s, as controller-runtime's leases. The leader renews every 2 s and steps down after 10 s
 * without a renewal; the others look every 2 s (operator/election.ts): a fail-over takes the
 * rest of the lease and one look.
 */
export const ELECTION_TTL_SECONDS = 15;

export const DEFAULT_OPTIONS: OperatorOptions = {
  rotationIntervalMs: DEFAULT_ROTATION_INTERVAL_MS,
  migrationPageSize: 512,
  migrationConcurrency: 4,
  maxUnavailable: 1,
  etcdTimeoutMs: 10_000,
};

/**
 * The operator process. Every host runs one; the replica that holds the etcd election lease
 * runs the controllers, the others wait. Losing the lease ends the process (the agent starts
 * it again), so two replicas never act at once. Controllers keep no state between syncs.
 */
export async function runOperator(flags: OperatorFlags): Promise<void> {
  const log = (l: string) => process.stdout.write(`${new Date().toISOString()} ${flags.nodeName} ${l}\n`);
  const kube = new KubeClient(loadKubeconfig(flags.kubeconfig), 15_000);
  const etcd = createEtcdClient({ endpoints: flags.etcdEndpoints, tls: flags.etcdTls, dialTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS, faults: 'patient' });
  const conn: Connection = { endpoints: flags.etcdEndpoints, tls: flags.etcdTls, commandTimeoutMs: 3000, dialTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS };
  // Every replica serves the space metrics, leader or not: Prometheus scrapes them all.
  const metrics = new OperatorMetrics();
  // Registered on every replica, so each serves the names; only the leader sets values.
  const backupMetrics = new BackupMetrics(metrics.registry);
  const ctx: OperatorContext = { kube, etcd, metrics, options: DEFAULT_OPTIONS, log, now: () => new Date() };

  const election = new Election(etcd, { prefix: `election/${OPERATOR_ELECTION}/`, value: flags.nodeName, ttlSeconds: ELECTION_TTL_SECONDS, ...ELECTION_DEFAULTS, log });
  const stop = (code: number) => {
    log(code ? 'exiting' : 'stopped');
    process.exit(code);
  };
  // A graceful stop hands the leadership over at once instead of after the lease's TTL.
  const resignAndStop = () => void election.resign().finally(() => stop(0));
  process.on('SIGTERM', resignAndStop);
  process.on('SIGINT', resignAndStop);

  if (flags.metricsPort) {
    const address = flags.metricsAddress ?? '127.0.0.1';
    await metrics.serve(flags.metricsPort, address);
    log(`metrics on http://${address}:${flags.metricsPort}/metrics`);
  }
  void runLoop('SpaceMonitor', () => observeSpace(conn, metrics), 15_000, log);
  void exitOnNewCluster(conn, log, () => stop(1));

  log(`campaigning for leadership (etcd election ${OPERATOR_ELECTION})`);
  // Losing the leadership ends the process (the agent starts it again): no controller runs on.
  election.onLost((why) => {
    log(`lost the leadership: ${why}`);
    stop(1);
  });
  await election.campaign();
  log('elected: running the controllers');

  const etcdHealthy = async () => {
    try {
      // A member still joining counts as not healthy: etcd members change one at a time.
      const v = await observeMembers(conn);
      return v.unhealthy.length === 0 && v.joining.length === 0;
    } catch {
      return false;
    }
  };
  const nodes = () => existingNodes(ctx);
  // Migrations run beside the controllers; the Encryption sync starts and watches them.
  const migrations = new MigrationWorkers();
  const backupEnv = flags.home ? { home: flags.home, cluster: loadClusterFile(flags.home), conn, metrics: backupMetrics, runner: `${flags.nodeName}/${process.pid}` } : undefined;
  const loops: Array<[string, () => Promise<unknown>, number]> = [
    ['ConfigObserver', () => syncConfigSources(ctx), flags.resyncMs],
    ['Encryption', () => syncEncryption(ctx, migrations), flags.resyncMs],
    ['KubeAPIServerRevision', () => syncRevisions(ctx, KUBE_APISERVER), flags.resyncMs],
    ['KubeAPIServerInstaller', () => syncInstalls(ctx, KUBE_APISERVER, async () => true, nodes), flags.resyncMs],
    ['EtcdRevision', () => syncRevisions(ctx, ETCD), flags.resyncMs],
    ['EtcdInstaller', () => syncInstalls(ctx, ETCD, etcdHealthy, nodes), flags.resyncMs],
    ['EtcdMembers', () => syncEtcdMembers(ctx, conn), Math.max(flags.resyncMs, 5000)],
    ['ClusterMember', () => syncMembership(ctx, conn, async () => (await nodes())?.map((n) => n.name)), flags.resyncMs],
    ['Defrag', () => syncDefrag(ctx, conn, metrics), Math.max(flags.resyncMs, 5000)],
    ['RevisionSampler', () => sampleRevision(etcd), 10_000],
    ['NodeLifecycle', () => syncNodeLifecycle(ctx), NODE_LIFECYCLE_SYNC_MS],
    ...(backupEnv ? [['Backup', () => syncBackups(ctx, backupEnv), Math.max(flags.resyncMs, 2000)] as [string, () => Promise<unknown>, number]] : []),
  ];
  await Promise.all(loops.map(([name, fn, every]) => runLoop(name, fn, every, log)));
}

/** One controller: sync, then wait; an error is logged (once while it repeats) and retried. */
async function runLoop(name: string, sync: () => Promise<unknown>, everyMs: number, log: (l: string) => void): Promise<never> {
  let last = '';
  for (;;) {
    try {
      await sync();
      if (last) log(`${name}: recovered`);
      last = '';
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== last) log(`${name}: ${msg}`);
      last = msg;
    }
    await sleep(everyMs);
  }
}
