import type { Command } from 'commander';
import { homeOption, intArg, resolveTarget } from './connection.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_DIAL_TIMEOUT_MS } from '../etcd/endpoints.js';

interface ConsoleFlags {
  home?: string;
  kubeconfig?: string;
  port: number;
  open?: boolean;
}

/**
 * `etcd-ops console`: a web console on 127.0.0.1, as `kubectl proxy` serves the API. It acts with
 * the credentials this command resolves as every other one does: the home's kubeconfig and etcd
 * client certificate, or --kubeconfig for the API (with --home too, etcd through that home).
 */
export function register(program: Command): void {
  homeOption(
    program
      .command('console')
      .description('a web console for this etcd on 127.0.0.1: members, charts, encryption, backups, defrag and restore previews, live; prints a one-time login URL')
      .option('--kubeconfig <file>', 'talk to this API server instead of the home (default: the home, else $KUBECONFIG)')
      .option('--port <port>', 'the local port (0: any free port)', intArg('--port', 0, 65535), 9900)
      .option('--open', 'open the login URL in the default browser (xdg-open)'),
  ).action(async (flags: ConsoleFlags) => {
    const { kubeClientFor } = await import('../kube/target.js');
    const { startConsole } = await import('../console/server.js');
    const kube = kubeClientFor(flags);
    let etcd: { conn: import('../etcd/connection.js').Connection; home: string; cluster: import('../home/cluster-file.js').ClusterFile } | undefined;
    if (flags.kubeconfig && !flags.home) {
      // The kubeconfig's cluster may be any: a home's etcd credentials are used only when named.
      process.stderr.write('etcd-ops: --kubeconfig without --home: the console shows what the API holds; members, charts, backups on the hosts and defrag need --home\n');
    } else {
      const t = resolveTarget({ home: flags.home, commandTimeout: DEFAULT_COMMAND_TIMEOUT_MS, dialTimeout: DEFAULT_DIAL_TIMEOUT_MS });
      if (t.home && t.cluster) etcd = { conn: t.conn, home: t.home, cluster: t.cluster };
    }
    const c = await startConsole({ kube, etcd, port: flags.port });
    process.stdout.write(`etcd-ops console for ${etcd ? etcd.home : 'the --kubeconfig cluster'} at http://127.0.0.1:${c.port}/\n`);
    process.stdout.write(`Log in (once; the link works one time) at:\n  ${c.url}\n`);
    process.stdout.write('Press Ctrl-C to stop.\n');
    if (flags.open) {
      const { spawn } = await import('node:child_process');
      const child = spawn('xdg-open', [c.url], { stdio: 'ignore', detached: true });
      child.on('error', () => process.stderr.write('etcd-ops: could not run xdg-open: open the URL above yourself\n'));
      child.unref();
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await c.close();
    kube.close();
  });
}
