import { Option, type Command } from 'commander';
import { connectionOptions, durationOption, resolveTarget, type ConnectionFlags } from './connection.js';
import { UserError } from '../util/errors.js';

interface RestoreFlags extends ConnectionFlags {
  host?: string;
  recoveryHost?: string;
  yes?: boolean;
  force?: boolean;
  ignoreVersionSkew?: boolean;
  bumpRevision?: string;
  preview?: boolean;
  timeout: number;
  writeOut: 'table' | 'json';
}

/**
 * `etcd-ops restore BACKUP_DIR`: the seed's recovery. With --host, cluster-restore.sh on that
 * host alone; without, the whole control plane from one command with a plan, a journal and
 * resumption; with --preview, what a restore would undo, changing nothing.
 */
export function register(program: Command): void {
  connectionOptions(
    program
      .command('restore')
      .description(
        'Restore the control plane from a backup directory (cluster-backup.sh\'s snapshot_*.db and static_kuberesources_*.tar.gz). ' +
          'Without --host: the whole recovery (stop the other hosts, restore one host as a single member, bring the others back as learners, roll out new revisions), resumable from its journal. ' +
          'With --host: cluster-restore.sh on that host only',
      )
      .argument('[backup-dir]', 'the folder holding the backup (its newest snapshot and resources archive are used)')
      .option('--host <host>', "cluster-restore.sh on this host only (the hosts' usr/local/bin/cluster-restore.sh passes it)")
      .option('--recovery-host <host>', 'the host to restore on in the whole recovery (default: the first host that still exists)')
      .option('-y, --yes', 'do not ask before the whole recovery starts')
      .option('--force', "with --host: restore even while other hosts' members could still form a quorum")
      .option('--ignore-version-skew', 'restore a backup taken with another etcd or etcd-ops version')
      .option('--bump-revision <N>', 'revisions to add (default: 1.2 x the highest revision of the moved-aside data dirs, else 1000000000)')
      .option('--preview', 'change nothing: list what a restore would revert, lose and bring back, and the state outside etcd it would make stale')
      .addOption(durationOption('--timeout <duration>', 'how long each wait may take (pods stopping, members joining, rollouts)', 5 * 60_000))
      .addOption(new Option('-w, --write-out <format>', 'output format of --preview').choices(['table', 'json']).default('table')),
    { commandTimeoutMs: 5000 },
  ).action(async (dir: string | undefined, flags: RestoreFlags) => {
    const target = resolveTarget(flags);
    if (!target.home || !target.cluster) throw new UserError('restore works on a home (--home): it stops and starts the hosts\' static pods; --endpoints is not enough');
    if (flags.host && flags.recoveryHost) throw new UserError('--host restores one host alone (cluster-restore.sh); --recovery-host picks the host of the whole recovery: give one of them');
    const { RESTORE_USAGE, UsageError } = await import('../recovery/backup-dir.js');
    try {
      await run(dir, flags, target.home, target.cluster, target.conn);
    } catch (err) {
      if (err instanceof UsageError) process.stdout.write(`${RESTORE_USAGE}\n`);
      throw err;
    }
  });
}

async function run(dir: string | undefined, flags: RestoreFlags, home: string, cluster: NonNullable<ReturnType<typeof resolveTarget>['cluster']>, conn: ReturnType<typeof resolveTarget>['conn']): Promise<void> {
  const { printPreview, printPlan, printRestoreEvent } = await import('./printers/restore.js');
  if (flags.preview) {
    const { previewRestore } = await import('../recovery/preview.js');
    const report = await previewRestore({ home, cluster, conn, backupDir: dir, ignoreVersionSkew: Boolean(flags.ignoreVersionSkew) });
    process.stdout.write(printPreview(report, flags.writeOut));
    return;
  }
  let bump: bigint | undefined;
  if (flags.bumpRevision !== undefined) {
    if (!/^\d+$/.test(flags.bumpRevision) || BigInt(flags.bumpRevision) <= 0n) throw new UserError(`--bump-revision ${flags.bumpRevision}: want a positive whole number of revisions`);
    bump = BigInt(flags.bumpRevision);
  }
  const { runRestore } = await import('../recovery/run.js');
  const { etcdctlBinary } = await import('../restore/snapshot-restore.js');
  const report = (e: Parameters<typeof printRestoreEvent>[0]) => {
    const { out, err } = printRestoreEvent(e);
    if (out) process.stdout.write(out);
    if (err) process.stderr.write(err);
  };
  const result = await runRestore({
    home,
    cluster,
    conn,
    backupDir: dir,
    mode: flags.host ? 'host' : 'cluster',
    host: flags.host ?? flags.recoveryHost,
    force: Boolean(flags.force),
    ignoreVersionSkew: Boolean(flags.ignoreVersionSkew),
    bumpRevision: bump,
    timeoutMs: flags.timeout,
    etcdctl: etcdctlBinary(),
    report,
    confirm: async (plan) => {
      process.stdout.write(printPlan(plan));
      if (flags.yes) return true;
      if (!process.stdin.isTTY) throw new UserError('the restore asks before it starts and stdin is not a terminal: read the plan above and pass --yes to go ahead');
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y(es)?$/i.test((await rl.question('Go ahead? [y/N] ')).trim());
      } finally {
        rl.close();
      }
    },
  });
  const { existsSync, readFileSync } = await import('node:fs');
  if (result.reportPath && existsSync(result.reportPath)) {
    report({ kind: 'report', text: readFileSync(result.reportPath, 'utf8'), path: result.reportPath });
  }
  const lines = flags.host
    ? [
        `${flags.host} runs a single-member etcd restored from the backup.`,
        `Next, bring the other hosts back: kubectl patch etcd cluster -p='{"spec": {"forceRedeploymentReason": "recovery-<date>"}}' --type=merge, then the same for kubeapiserver.`,
      ]
    : ['The control plane is restored.'];
  const { lostHosts } = await import('../recovery/run.js');
  const lost = lostHosts(home, cluster);
  if (!flags.host && lost.length) lines.push(`Lost hosts not brought back: ${lost.join(', ')}: replace each with \`etcd-ops host replace <host>\`.`);
  lines.push(`Journal: ${result.journal}`);
  report({ kind: 'done', lines });
}
