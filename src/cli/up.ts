import { Option, type Command } from 'commander';
import { durationOption, homeOption, intArg } from './connection.js';
import { UserError } from '../util/errors.js';
import { sweepLeftovers } from '../controlplane/network.js';

interface UpFlags {
  home?: string;
  network?: 'hosts' | 'shared';
  hosts?: number;
  quotaBackendBytes?: number;
  timeout: number;
}

/** Namespaces and links of homes that crashed and are gone: ours by name, and nothing runs in them. */
function sweep(log: (l: string) => void): void {
  if (process.getuid?.() !== 0) return;
  const removed = sweepLeftovers();
  if (removed.length) log(`removed what a crashed or deleted home left behind: ${removed.join(', ')}`);
}

export function register(program: Command): void {
  homeOption(program.command('up').description('brings up the local control plane (master-0..N-1), or resumes it from its data'))
    .option('--hosts <n>', 'number of control-plane hosts (default 3)', intArg('--hosts', 1, 9))
    .option('--quota-backend-bytes <bytes>', 'etcd backend quota (default 2 GiB)', intArg('--quota-backend-bytes', 1024 * 1024))
    .addOption(new Option('--network <layout>', 'hosts: a network namespace per host (default as root); shared: the machine\'s network').choices(['hosts', 'shared']))
    .addOption(durationOption('--timeout <duration>', 'how long to wait for health', 60_000))
    .action(async (flags: UpFlags) => {
      const { resolveHome } = await import('../home/layout.js');
      const { homeIsOurs, loadClusterFile } = await import('../home/cluster-file.js');
      const life = await import('../controlplane/lifecycle.js');
      const wait = await import('../controlplane/wait.js');
      const log = (l: string) => process.stdout.write(`${l}\n`);
      const home = resolveHome(flags.home);
      sweep(log);
      let cluster;
      if (homeIsOurs(home)) {
        cluster = loadClusterFile(home);
        if (flags.hosts !== undefined && flags.hosts !== cluster.hosts.length) {
          throw new UserError(`${home} has ${cluster.hosts.length} hosts, not ${flags.hosts}: drop --hosts, or use another --home`);
        }
        const made = cluster.network?.mode ?? 'shared';
        if (flags.network !== undefined && flags.network !== made) {
          throw new UserError(`${home} was created with --network ${made}: drop the flag, or use another --home`);
        }
        if (flags.quotaBackendBytes !== undefined && flags.quotaBackendBytes !== cluster.quotaBackendBytes) {
          throw new UserError(`${home} was created with --quota-backend-bytes ${cluster.quotaBackendBytes}: drop the flag, or use another --home`);
        }
        const running = life.hostsRunning(home, cluster);
        if (running.length === cluster.hosts.length && life.loadBalancerRunning(home)) {
          log(`etcd-ops: the control plane in ${home} is already running (${running.join(', ')})`);
          return;
        }
        log(`resuming the control plane in ${home} from its data`);
      } else {
        const { createHome, DEFAULT_QUOTA_BYTES } = await import('../controlplane/create.js');
        cluster = await createHome(home, {
          hosts: flags.hosts ?? 3,
          quotaBackendBytes: flags.quotaBackendBytes ?? DEFAULT_QUOTA_BYTES,
          network: flags.network ?? (process.env.ETCD_OPS_NETWORK === 'shared' ? 'shared' : undefined),
          log,
        });
        log(`created ${cluster.hosts.length} control-plane hosts in ${home}/hosts`);
      }
      await life.startHosts(home, cluster);
      await life.startLoadBalancer(home);
      const { resolveTarget } = await import('./connection.js');
      const target = resolveTarget({ home, commandTimeout: 5000, dialTimeout: 2000 });
      const started = Date.now();
      await wait.waitHealthy(target.conn, flags.timeout);
      const { loadCredentials } = await import('../controlplane/credentials.js');
      await wait.waitApiReady(cluster.apiServer.url, loadCredentials(home).ca.certPem, Math.max(5000, flags.timeout - (Date.now() - started)));
      // Healthy is not settled: the operator still has to hear from every node. Until it has,
      // `etcd-ops backup` would refuse, so up waits a little longer, and says so if it must stop.
      const unsettled = await wait.waitSettled(
        target.conn,
        cluster.hosts.map((h) => h.name),
        Math.max(10_000, flags.timeout - (Date.now() - started)),
      );
      if (unsettled) process.stderr.write(`etcd-ops: the control plane is up, but not settled yet: ${unsettled}; \`etcd-ops backup\` refuses until it is\n`);
      const { endpointStatuses } = await import('../etcd/status.js');
      const { printUpSummary } = await import('./printers/up.js');
      process.stdout.write(printUpSummary(home, cluster, await endpointStatuses(target.conn)));
    });

  homeOption(program.command('down').description('stops every host of the local control plane; keeps all data')).action(async (flags: { home?: string }) => {
    const { requireHome } = await import('./connection.js');
    const { stopHosts } = await import('../controlplane/lifecycle.js');
    const { home, cluster } = requireHome(flags);
    const stopped = await stopHosts(home, cluster);
    sweep((l) => process.stdout.write(`${l}\n`));
    process.stdout.write(stopped.length ? `stopped ${stopped.join(', ')}; data kept in ${home}\n` : `nothing was running in ${home}\n`);
  });
}
