import type { Command } from 'commander';
import { durationOption } from './connection.js';

/** The operator's process, run as a static pod on every host: not for people to run by hand. */
export function register(program: Command): void {
  program
    .command('operator', { hidden: true })
    .requiredOption('--kubeconfig <file>')
    .requiredOption('--etcd-endpoints <urls>')
    .requiredOption('--node-name <name>')
    .addOption(durationOption('--resync <duration>', 'how often each controller syncs', 1000))
    .option('--metrics-port <port>', 'serve Prometheus metrics on this loopback port (0: off)', (v) => Number(v), 0)
    .option('--home <dir>', 'the home whose hosts the backup controller writes to (none: no backup controller)')
    .action(async (flags: { kubeconfig: string; etcdEndpoints: string; nodeName: string; resync: number; metricsPort: number; home?: string }) => {
      const { runOperator } = await import('../operator/main.js');
      await runOperator({ kubeconfig: flags.kubeconfig, etcdEndpoints: flags.etcdEndpoints.split(','), nodeName: flags.nodeName, resyncMs: flags.resync, metricsPort: flags.metricsPort, home: flags.home });
    });
}
