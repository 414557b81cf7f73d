import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

/** The long-running processes `up` starts detached: not for people to run by hand. */
export function register(program: Command): void {
  program
    .command('agent', { hidden: true })
    .requiredOption('--home <dir>')
    .requiredOption('--host <host>')
    .action(async (flags: { home: string; host: string }) => {
      const { runAgent } = await import('../agent/main.js');
      await runAgent(flags.home, flags.host);
    });

  program
    .command('lb', { hidden: true })
    .requiredOption('--home <dir>')
    .action(async (flags: { home: string }) => {
      const { runBalancer } = await import('../lb/main.js');
      await runBalancer(flags.home);
    });

  // Runs inside the etcd container before etcd itself (`exec etcd ... $(etcd-ops etcd-discover ...)`):
  // prints the --initial-cluster a joining member must start with, or nothing.
  program
    .command('etcd-discover', { hidden: true })
    .requiredOption('--endpoints <urls>', "the other members' client URLs")
    .option('--timeout <ms>', 'how long to wait to be added', (v) => Number(v), 300_000)
    .argument('<etcd...>', "etcd's own command line")
    .action(async (argv: string[], flags: { endpoints: string; timeout: number }) => {
      const { discoverInitialCluster, etcdFlag } = await import('../etcd/discover.js');
      const { readEtcdTls } = await import('../etcd/client.js');
      const { DEFAULT_DIAL_TIMEOUT_MS } = await import('../etcd/endpoints.js');
      const flag = (f: string) => etcdFlag(argv, process.env, f);
      const endpoints = flags.endpoints.split(',').filter(Boolean);
      // The member's peer certificate is a client certificate too (as OpenShift's etcd-peer-<node>).
      const tls = readEtcdTls({
        endpoints,
        caFile: flag('peer-trusted-ca-file') ?? flag('trusted-ca-file'),
        certFile: flag('peer-cert-file') ?? flag('cert-file'),
        keyFile: flag('peer-key-file') ?? flag('key-file'),
      });
      const name = flag('name');
      const peerURL = flag('initial-advertise-peer-urls')?.split(',')[0];
      const dataDir = flag('data-dir');
      if (!name || !peerURL || !dataDir) throw new UserError('etcd-discover: the etcd command line has no --name, --initial-advertise-peer-urls or --data-dir');
      const parent = process.ppid;
      const initial = await discoverInitialCluster({
        abandoned: () => process.ppid !== parent,
        dataDir,
        self: { name, peerURL },
        conn: { endpoints, tls, commandTimeoutMs: 3000, dialTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS },
        timeoutMs: flags.timeout,
        log: (l) => process.stderr.write(`${new Date().toISOString()} etcd-discover: ${l}\n`),
      });
      // etcd takes the last of a repeated flag: this one wins over the manifest's.
      if (initial) process.stdout.write(`--initial-cluster=${initial}\n`);
    });
}
