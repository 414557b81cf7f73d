import { Option, type Command } from 'commander';
import { IDENTITY_HELP, plain } from './age-input.js';

interface RestoreFlags {
  dataDir?: string;
  name: string;
  initialCluster?: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  skipHashCheck?: boolean;
  identity?: string;
  bumpRevision?: string;
  markCompacted?: boolean;
  writeOut: 'simple' | 'json';
}

/**
 * `etcd-ops snapshot restore SNAPSHOT ...`: etcdctl's flags, plus etcd 3.5.10's
 * `--bump-revision N --mark-compacted`, which Debian's etcdctl 3.4.23 lacks.
 */
export function registerRestore(snapshot: Command): void {
  snapshot
    .command('restore')
    .description(
      'Restore a snapshot into a new data dir, as `etcdctl snapshot restore` does; with --bump-revision N --mark-compacted, ' +
        'start the restored store N revisions above the snapshot with everything older compacted, as etcd 3.5.10+ does, so clients never see revisions go backwards',
    )
    .argument('<snapshot>', 'snapshot file (etcdctl snapshot save), or a raw member/snap/db with --skip-hash-check')
    .option('--data-dir <dir>', 'the data dir to create; it must be missing or empty (default: <name>.etcd)')
    .option('--name <name>', 'human-readable name for this member', 'default')
    .option('--initial-cluster <list>', 'initial cluster configuration for restore bootstrap (default: <name>=<peer urls>)')
    .option('--initial-cluster-token <token>', 'initial cluster token for the etcd cluster during restore bootstrap', 'etcd-cluster')
    .option('--initial-advertise-peer-urls <urls>', "this member's peer URLs to advertise to the rest of the cluster", 'http://localhost:2380')
    .option('--identity <file>', IDENTITY_HELP)
    .option('--skip-hash-check', 'ignore the snapshot integrity hash (required for a db copied from a data dir)')
    .option('--bump-revision <N>', 'how much to increase the latest revision after restore')
    .option('--mark-compacted', 'mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, refused otherwise)')
    .addOption(new Option('-w, --write-out <format>', 'output format').choices(['simple', 'json']).default('simple'))
    .action(async (file: string, f: RestoreFlags) => {
      const { bumpFromFlags } = await import('../restore/bump.js');
      const bump = bumpFromFlags(f.bumpRevision, f.markCompacted);
      const { etcdctlBinary, snapshotRestore } = await import('../restore/snapshot-restore.js');
      const { printRestore } = await import('./printers/snapshot-restore.js');
      const opened = await plain([file], f.identity);
      const res = await snapshotRestore({
        snapshot: opened.paths[0]!,
        dataDir: f.dataDir ?? `${f.name}.etcd`,
        name: f.name,
        initialCluster: f.initialCluster ?? f.initialAdvertisePeerUrls.split(',').map((u) => `${f.name}=${u}`).join(','),
        initialClusterToken: f.initialClusterToken,
        initialAdvertisePeerUrls: f.initialAdvertisePeerUrls,
        bumpRevision: bump,
        skipHashCheck: f.skipHashCheck,
        etcdctl: etcdctlBinary(),
        log: f.writeOut === 'simple' ? (line) => process.stderr.write(`${line}\n`) : undefined,
      }).finally(() => opened.close());
      process.stdout.write(printRestore(res, f.writeOut));
    });
}
