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
    .option('--metrics-port <port>', 'serve Prometheus metrics on this port (0: off)', (v) => Number(v), 0)
    .option('--metrics-address <ip>', 'the address to serve metrics on', '127.0.0.1')
    .option('--etcd-cacert <file>', 'the etcd CA bundle')
    .option('--etcd-cert <file>', 'the client certificate towards etcd')
    .option('--etcd-key <file>', 'its key')
    .option('--home <dir>', 'the home whose hosts the backup controller writes to (none: no backup controller)')
    .action(async (flags: { kubeconfig: string; etcdEndpoints: string; nodeName: string; resync: number; metricsPort: number; metricsAddress: string; etcdCacert?: string; etcdCert?: string; etcdKey?: string; home?: string }) => {
      const { runOperator } = await import('../operator/main.js');
      const { readTls } = await import('../etcd/endpoints.js');
      await runOperator({
        kubeconfig: flags.kubeconfig,
        etcdEndpoints: flags.etcdEndpoints.split(','),
        etcdTls: readTls({ cacert: flags.etcdCacert, cert: flags.etcdCert, key: flags.etcdKey }),
        nodeName: flags.nodeName,
        resyncMs: flags.resync,
        metricsPort: flags.metricsPort,
        metricsAddress: flags.metricsAddress,
        home: flags.home,
      });
    });
}
