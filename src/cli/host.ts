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
      const { startHosts } = await import('../controlplane/lifecycle.js');
      const { runningAgent } = await import('../agent/control.js');
      await startHosts(home, cluster, [name]);
      process.stdout.write(`${name}: agent running (pid ${runningAgent(home, name)?.pid})\n`);
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

  homeOption(host.command('isolate <host>').description("cuts the host's network link, as a pulled cable: a partition for drills and tests")).action(
    async (name: string, flags: { home?: string }) => {
      const { home, cluster } = requireHome(flags);
      checkHost(cluster, name, home);
      const { isolate } = await import('../controlplane/network.js');
      isolate(cluster, name);
      process.stdout.write(`${name}: isolated (its link is down); \`etcd-ops host heal ${name}\` restores it\n`);
    },
  );
  homeOption(host.command('heal <host>').description("restores the host's network link")).action(async (name: string, flags: { home?: string }) => {
    const { home, cluster } = requireHome(flags);
    checkHost(cluster, name, home);
    const { heal } = await import('../controlplane/network.js');
    heal(cluster, name);
    process.stdout.write(`${name}: healed (its link is up)\n`);
  });
  homeOption(
    host
      .command('exec <host> <command...>')
      .description('runs a command on the host, as `ssh core@<host>` would: in its network, at its root, with its usr/local/bin (crictl, cluster-backup.sh) first on PATH; put the command after --'),
  ).action(async (name: string, command: string[], flags: { home?: string }) => {
    const { home, cluster } = requireHome(flags);
    checkHost(cluster, name, home);
    const { runOnHost } = await import('../controlplane/host-shell.js');
    process.exitCode = await runOnHost(home, cluster, name, command);
  });
  homeOption(host.command('shell <host>').description('an interactive shell on the host (`ssh core@<host>`, or `oc debug node/<node>` then `chroot /host`)')).action(
    async (name: string, flags: { home?: string }) => {
      const { home, cluster } = requireHome(flags);
      checkHost(cluster, name, home);
      const { runOnHost } = await import('../controlplane/host-shell.js');
      process.exitCode = await runOnHost(home, cluster, name, [process.env.SHELL || '/bin/sh', '-i']);
    },
  );

  // What the host's usr/local/bin/crictl runs: not for people to call as etcd-ops.
  writeOutOption(homeOption(program.command('crictl', { hidden: true }).requiredOption('--host <host>').argument('<verb>').option('-a, --all', 'show all containers')), ['table'], 'table').action(
    async (verb: string, flags: { home?: string; host: string; all?: boolean }) => {
      const { home, cluster } = requireHome(flags);
      checkHost(cluster, flags.host, home);
      if (verb !== 'ps') throw new UserError(`crictl ${verb}: only \`crictl ps [-a]\` is available on these hosts`);
      const { collectPs } = await import('../agent/ps.js');
      const { printCrictlPs } = await import('./printers/crictl.js');
      process.stdout.write(printCrictlPs(collectPs(home, [flags.host])[0]!, !!flags.all));
    },
  );
}
