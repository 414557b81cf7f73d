import type { Command } from 'commander';
import { durationOption, homeOption, requireHome, writeOutOption } from './connection.js';
import { UserError } from '../util/errors.js';
import type { ClusterFile } from '../home/cluster-file.js';

function checkHost(cluster: ClusterFile, host: string, home: string): void {
  if (!cluster.hosts.some((h) => h.name === host)) {
    throw new UserError(`no host "${host}" in ${home}: hosts are ${cluster.hosts.map((h) => h.name).join(', ')}`);
  }
}

export function register(program: Command): void {
  writeOutOption(
    homeOption(program.command('ps').description("lists each host's static pods and containers, like crictl ps")).option('--host <host>', 'only this host'),
    ['table', 'json'],
    'table',
  ).action(async (flags: { home?: string; host?: string; writeOut: string }) => {
    const { home, cluster } = requireHome(flags);
    if (flags.host) checkHost(cluster, flags.host, home);
    const { collectPs } = await import('../agent/ps.js');
    const { printPs } = await import('./printers/ps.js');
    const hosts = cluster.hosts.map((h) => h.name).filter((h) => !flags.host || h === flags.host);
    process.stdout.write(printPs(collectPs(home, hosts), flags.writeOut));
  });

  const host = program.command('host').description('one control-plane host: start it, stop it, or lose it');
  homeOption(host.command('start <host>').description("starts the host's agent, which starts its static pods from their data")).action(
    async (name: string, flags: { home?: string }) => {
      const { home, cluster } = requireHome(flags);
      checkHost(cluster, name, home);
      const { startAgent } = await import('../agent/control.js');
      const ref = await startAgent(home, name);
      process.stdout.write(`${name}: agent running (pid ${ref.pid})\n`);
    },
  );
  homeOption(host.command('stop <host>').description("stops the host's agent and its pods gracefully")).action(async (name: string, flags: { home?: string }) => {
    const { home, cluster } = requireHome(flags);
    checkHost(cluster, name, home);
    const { stopAgent } = await import('../agent/control.js');
    process.stdout.write((await stopAgent(home, name)) ? `${name}: stopped\n` : `${name}: was not running\n`);
  });
  homeOption(host.command('kill <host>').description('loses the host: SIGKILL to its agent and every process it runs')).action(
    async (name: string, flags: { home?: string }) => {
      const { home, cluster } = requireHome(flags);
      checkHost(cluster, name, home);
      const { killHost } = await import('../agent/control.js');
      killHost(home, name);
      process.stdout.write(`${name}: killed (agent and its processes); \`etcd-ops host start ${name}\` brings it back\n`);
    },
  );

  homeOption(
    host
      .command('replace <host>')
      .description(
        'replaces a lost host, as deleting its Machine does: its folder is moved aside, a new host (the next free master-N) joins, and the operator removes the dead etcd member and adds the new one',
      )
      .addOption(durationOption('--timeout <duration>', 'how long to wait for the new member and the API servers', 5 * 60_000)),
  ).action(async (name: string, flags: { home?: string; timeout: number }) => {
    const { home, cluster } = requireHome(flags);
    checkHost(cluster, name, home);
    const { resolveTarget } = await import('./connection.js');
    const { replaceHost } = await import('../controlplane/replace.js');
    const { printReplaceEvent } = await import('./printers/replace.js');
    const target = resolveTarget({ home, commandTimeout: 5000, dialTimeout: 2000 });
    await replaceHost({ home, host: name, conn: target.conn, timeoutMs: flags.timeout, report: (e) => process.stdout.write(printReplaceEvent(e)) });
  });
}
