import { Option, type Command } from 'commander';
import { connectionOptions, resolveTarget, type ConnectionFlags } from './connection.js';
import { UserError } from '../util/errors.js';

interface BackupFlags extends ConnectionFlags {
  host?: string;
  force?: boolean;
  resourcesDir?: string;
}

/**
 * `etcd-ops backup DIR`: OpenShift's cluster-backup.sh for one control-plane host (a snapshot of
 * its own member plus the static-pod resources its manifests run), and `backup inspect`, which
 * tells whether a backup can be restored and read: its keys, and proof they decrypt the data.
 */
export function register(program: Command): void {
  const backup = connectionOptions(
    program
      .command('backup')
      .description("Back up one control-plane host as cluster-backup.sh does: its member's snapshot and the static-pod resources (encryption keys included) its manifests run")
      .argument('<dir>', 'folder to save snapshot_<stamp>.db and static_kuberesources_<stamp>.tar.gz in (created 0700 if missing)')
      .option('--host <host>', 'the host of the --home to back up (default: the first)')
      .option('--force', 'back up even while an operator is progressing; both names then say __POSSIBLY_DIRTY__')
      .option('--resources-dir <dir>', "with --endpoints: the host's etc/kubernetes folder (manifests/ and static-pod-resources/)"),
    { commandTimeoutMs: 10_000 },
  ).action(async (dir: string, flags: BackupFlags) => {
    const request = await backupRequest(dir, flags);
    const { runBackup } = await import('../backup/run.js');
    const { printBackupEvent } = await import('./printers/backup.js');
    await runBackup({
      ...request,
      report: (e) => {
        const { out, err } = printBackupEvent(e);
        if (out) process.stdout.write(out);
        if (err) process.stderr.write(err);
      },
    });
  });

  backup
    .command('inspect')
    .description(
      'Check a backup: revision, keys per resource, how values are stored (JSON, protobuf, encrypted by which key), and whether its archive holds the keys: ' +
        'every encrypted value is decrypted to prove it. Exits 2 when a restore from it would lose data or could not read it, 1 when the snapshot is damaged',
    )
    .argument('<path>', 'a backup folder (its newest snapshot), a snapshot_*.db, or a static_kuberesources_*.tar.gz')
    .option('--bundle <file>', 'the resources archive to check the snapshot against (default: the one with the same stamp)')
    .addOption(new Option('-w, --write-out <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (path: string, flags: { bundle?: string; writeOut: 'table' | 'json' }) => {
      const { inspectBackup } = await import('../backup/inspect.js');
      const { formatInspect } = await import('./printers/backup.js');
      const report = await inspectBackup({ path, bundle: flags.bundle });
      process.stdout.write(formatInspect(report, flags.writeOut));
      if (report.warnings.some((w) => w.level === 'error')) process.exitCode = 2;
    });
}

async function backupRequest(dir: string, flags: BackupFlags) {
  const target = resolveTarget(flags);
  const base = { dir, force: Boolean(flags.force) };
  if (target.cluster && target.home) {
    if (flags.resourcesDir) throw new UserError('--resources-dir goes with --endpoints; with --home the host\'s own folder is used (pick the host with --host)');
    const { hostPaths } = await import('../home/layout.js');
    const host = flags.host ? target.cluster.hosts.find((h) => h.name === flags.host) : target.cluster.hosts[0];
    if (!host) throw new UserError(`no host "${flags.host}" in ${target.home}: hosts are ${target.cluster.hosts.map((h) => h.name).join(', ')}`);
    const { join } = await import('node:path');
    return {
      ...base,
      host: host.name,
      resourcesRoot: join(hostPaths(target.home, host.name).root, 'etc/kubernetes'),
      endpoint: host.clientURL,
      conn: { ...target.conn, endpoints: [host.clientURL] },
      memberDownHint: `start it (\`etcd-ops host start ${host.name}\`, or put its etcd-pod manifest back) and wait until it is healthy, or back up another host with --host`,
    };
  }
  if (flags.host) throw new UserError('--host picks a host of a --home; with --endpoints, name the member in --endpoints and its folder with --resources-dir');
  if (target.conn.endpoints.length !== 1) {
    throw new UserError(`a backup is of one member: give exactly one endpoint in --endpoints (got ${target.conn.endpoints.length}), the member on this host`);
  }
  return {
    ...base,
    resourcesRoot: flags.resourcesDir,
    endpoint: target.conn.endpoints[0]!,
    conn: target.conn,
    memberDownHint: 'check that the member is running and that --endpoints names it',
  };
}
