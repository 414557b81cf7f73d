import { Command, Option } from 'commander';
import { connectionOptions, requireHome, resolveTarget, type ConnectionFlags } from './connection.js';
import { UserError } from '../util/errors.js';
import { IDENTITY_HELP } from './age-input.js';

interface BackupFlags extends ConnectionFlags {
  host?: string;
  force?: boolean;
  resourcesDir?: string;
  encryptTo: string[];
  passphraseFile?: string;
}

const collect = (v: string, all: string[]) => [...all, v];

async function identityFrom(path: string | undefined) {
  if (path === undefined) return undefined;
  const { readIdentityFile } = await import('../backup/age.js');
  return readIdentityFile(path);
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
      .option('--resources-dir <dir>', "with --endpoints: the host's etc/kubernetes folder (manifests/ and static-pod-resources/)")
      .option('--encrypt-to <recipient>', 'encrypt both files with age for this recipient (age1... public key, or a file of them); repeatable. The files get .age', collect, [])
      .option('--passphrase-file <file>', 'encrypt both files with age and the passphrase on the first line of this file'),
    { commandTimeoutMs: 10_000 },
  ).action(async (dir: string, flags: BackupFlags) => {
    if (flags.encryptTo.length && flags.passphraseFile) throw new UserError('give --encrypt-to or --passphrase-file, not both: age encrypts to recipients or to one passphrase');
    const request = await backupRequest(dir, flags);
    const { printBackupEvent } = await import('./printers/backup.js');
    const report = (e: import('../backup/run.js').BackupEvent) => {
      const { out, err } = printBackupEvent(e);
      if (out) process.stdout.write(out);
      if (err) process.stderr.write(err);
    };
    if (flags.encryptTo.length || flags.passphraseFile) {
      const { parseRecipients, readPassphraseFile } = await import('../backup/age.js');
      const encrypt = flags.passphraseFile ? { passphrase: readPassphraseFile(flags.passphraseFile) } : { recipients: parseRecipients(flags.encryptTo) };
      const { makeBackup } = await import('../backup/make.js');
      await makeBackup({ ...request, encrypt, report });
      return;
    }
    const { runBackup } = await import('../backup/run.js');
    await runBackup({ ...request, report });
  });

  backup
    .command('inspect')
    .description(
      'Check a backup: revision, keys per resource, how values are stored (JSON, protobuf, encrypted by which key), and whether its archive holds the keys: ' +
        'every encrypted value is decrypted to prove it. Exits 2 when a restore from it would lose data or could not read it, 1 when the snapshot is damaged',
    )
    .argument('<path>', 'a backup folder (its newest snapshot), a snapshot_*.db, or a static_kuberesources_*.tar.gz')
    .option('--bundle <file>', 'the resources archive to check the snapshot against (default: the one with the same stamp)')
    .option('--identity <file>', IDENTITY_HELP)
    .addOption(new Option('-w, --write-out <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (path: string, flags: { bundle?: string; identity?: string; writeOut: 'table' | 'json' }) => {
      const { inspectBackup } = await import('../backup/inspect.js');
      const { locateBackup } = await import('../backup/drill.js');
      const { openPlain } = await import('../backup/open.js');
      const { formatInspect } = await import('./printers/backup.js');
      const where = locateBackup({ path, bundle: flags.bundle });
      const opened = await openPlain([where.snapshotPath, ...(where.bundlePath ? [where.bundlePath] : [])], await identityFrom(flags.identity));
      try {
        const report = await inspectBackup({ path: opened.paths[0]!, bundle: opened.paths[1] });
        if (opened.decrypted) {
          report.snapshot.path = where.snapshotPath;
          if (report.bundle && where.bundlePath) report.bundle.path = where.bundlePath;
        }
        process.stdout.write(formatInspect(report, flags.writeOut));
        if (report.warnings.some((w) => w.level === 'error')) process.exitCode = 2;
      } finally {
        opened.close();
      }
    });

  backup
    .command('drill')
    .description(
      'Prove a backup restores: restore its snapshot into a scratch single member (temporary data dir, free loopback ports), check that etcd\'s HashKV at the ' +
        "snapshot's revision equals the snapshot reader's, that every key reads back, and that every encrypted value decrypts with the bundle's keys; then remove " +
        'only the scratch data. The result is kept in the backup\'s record (backup list). Exits 2 when the drill fails',
    )
    .argument('<path>', 'a backup folder (its newest backup) or a snapshot_*.db[.age]')
    .option('--bundle <file>', 'the resources archive to use (default: the one with the same stamp)')
    .option('--identity <file>', IDENTITY_HELP)
    .addOption(new Option('-w, --write-out <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (path: string, flags: { bundle?: string; identity?: string; writeOut: 'table' | 'json' }) => {
      const { drillBackup } = await import('../backup/drill.js');
      const { recordDrill } = await import('../backup/drill-record.js');
      const { whileReading } = await import('../backup/in-use.js');
      const { locateBackup } = await import('../backup/drill.js');
      const { parseBackupName } = await import('../backup/names.js');
      const { formatDrill } = await import('./printers/backup-lifecycle.js');
      const { dirname, basename } = await import('node:path');
      const identity = await identityFrom(flags.identity);
      const where = locateBackup({ path, bundle: flags.bundle });
      const stamp = parseBackupName(basename(where.snapshotPath).replace(/\.age$/, ''))?.stamp ?? basename(where.snapshotPath);
      const report = await whileReading(dirname(where.snapshotPath), stamp, 'drill', () => drillBackup({ path: where.snapshotPath, bundle: where.bundlePath, identity }));
      await recordDrill(report).catch(() => undefined);
      process.stdout.write(formatDrill(report, flags.writeOut));
      if (report.result === 'Failed') process.exitCode = 2;
    });

  backup
    .command('list')
    .description("List backups: time, host, revision, size, encrypted, possibly dirty, complete or not, and the last drill with its age. Without a folder: every host's var/lib/etcd-backups in the --home")
    .argument('[dir]', 'a backup folder')
    .option('--remote <remote>', 'list an rclone remote path (REMOTE:PATH) instead; a copy without its record did not finish and is not complete')
    .option('--rclone-config <file>', 'the rclone.conf to use (default: rclone\'s own)')
    .addOption(new Option('-w, --write-out <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (dir: string | undefined, flags: { remote?: string; rcloneConfig?: string; writeOut: 'table' | 'json' }, cmd: Command) => {
    const { listFolder } = await import('../backup/catalog.js');
    const { formatList } = await import('./printers/backup-lifecycle.js');
    const folders: Array<{ where: string; entries: import('../backup/catalog.js').CatalogEntry[] }> = [];
    if (flags.remote) {
      if (dir) throw new UserError('give a folder or --remote, not both');
      const { listRemote } = await import('../backup/remote.js');
      folders.push({ where: flags.remote, entries: await listRemote(flags.remote, { config: flags.rcloneConfig }) });
    } else if (dir) {
      folders.push({ where: dir, entries: listFolder(dir) });
    } else {
      const { home, cluster } = requireHome(cmd.optsWithGlobals());
      const { hostBackupDir } = await import('../backup/where.js');
      for (const h of cluster.hosts) {
        const d = hostBackupDir(home, h.name);
        folders.push({ where: `${h.name} ${d}`, entries: listFolder(d) });
      }
    }
    process.stdout.write(formatList(folders, flags.writeOut));
  });

  backup
    .command('push')
    .description("Copy a folder's complete backups to an rclone remote (S3, GCS, Azure, SFTP, WebDAV, ...): each file is verified by size and SHA-256 read back from the remote, and the record goes last")
    .argument('<dir>', 'the backup folder')
    .argument('<remote>', 'REMOTE:PATH, as rclone names it')
    .option('--rclone-config <file>', 'the rclone.conf to use (default: rclone\'s own)')
    .action(async (dir: string, remote: string, flags: { rcloneConfig?: string }) => {
      const { pushFolder } = await import('../backup/remote.js');
      const { formatTransfers } = await import('./printers/backup-lifecycle.js');
      process.stdout.write(formatTransfers('pushed', remote, await pushFolder(dir, remote, { config: flags.rcloneConfig })));
    });

  backup
    .command('pull')
    .description('Copy the complete backups of an rclone remote path into a folder; each file is verified against its record before it gets its name')
    .argument('<remote>', 'REMOTE:PATH, as rclone names it')
    .argument('<dir>', 'the folder to copy into (created 0700)')
    .option('--stamp <stamp>', 'only the backup with this stamp (2026-06-30_061502)')
    .option('--rclone-config <file>', 'the rclone.conf to use (default: rclone\'s own)')
    .action(async (remote: string, dir: string, flags: { stamp?: string; rcloneConfig?: string }) => {
      const { pullBackups } = await import('../backup/remote.js');
      const { formatTransfers } = await import('./printers/backup-lifecycle.js');
      process.stdout.write(formatTransfers('pulled', remote, await pullBackups(remote, dir, { config: flags.rcloneConfig, stamp: flags.stamp })));
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
