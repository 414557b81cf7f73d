import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { latestSnapshotName, parseBackupName, versionCompare } from '../backup/names.js';
import { UserError } from '../util/errors.js';

/** cluster-restore.sh's usage text, typo included, as the 4.10 script echoes it. */
export const RESTORE_USAGE = [
  'Path to the directory containing backup files is required: ./cluster-restore.sh <path-to-backup>',
  'The backup directory is expected to be contain two files:',
  '        1. etcd snapshot',
  '        2. A copy of the Static POD resources at the time of backup',
].join('\n');

/** A missing or bad argument: the CLI prints the usage text, then this one line. */
export class UsageError extends UserError {}

export interface BackupPair {
  dir: string;
  snapshot: string;
  bundle: string;
}

/**
 * The script's choice: the last `snapshot*.db` and the last `static_kuberesources*.tar.gz` of the
 * folder in version order (`ls -v | tail -1`), each on its own. Whether they belong together is
 * checked later, with everything else, before anything changes.
 */
export function pickBackup(dirArg: string | undefined): BackupPair {
  if (!dirArg) throw new UsageError('no backup directory given');
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dirArg} is not a directory`);
  const names = readdirSync(dir);
  const snap = latestSnapshotName(names);
  if (!snap) throw new UserError(`etcd snapshot ${join(dir, 'snapshot_*.db')} does not exist`);
  const bundles = names.filter((n) => parseBackupName(n)?.kind === 'resources').sort(versionCompare);
  const bundle = bundles.at(-1);
  if (!bundle) throw new UserError(`static pod resources ${join(dir, 'static_kuberesources_*.tar.gz')} do not exist: a restore needs the archive made with the snapshot`);
  return { dir, snapshot: join(dir, snap), bundle: join(dir, bundle) };
}
