import { basename } from 'node:path';
import { inspectBackup, type InspectReport } from '../backup/inspect.js';
import type { BackupManifest } from '../backup/manifest.js';
import { parseBackupName } from '../backup/names.js';
import { INTEGRITY_FAILED } from '../backup/run.js';
import { openSnapshot, SnapshotError } from '../snapshot/index.js';
import { UserError, errorMessage } from '../util/errors.js';
import { version as etcdOpsVersion } from '../version.js';
import type { BackupPair } from './backup-dir.js';

/** What a restore needs to know of a backup that passed every check. */
export interface CheckedBackup {
  pair: BackupPair;
  manifest?: BackupManifest;
  report: InspectReport;
  /** The snapshot's revision: where a plain restore would start. */
  revision: bigint;
  /** The static pod revisions the archive holds, by pod (etcd-pod: 3). */
  podRevisions: Record<string, number>;
}

export interface CheckOptions {
  /** The etcd version the control plane runs. */
  etcdVersion: string;
  ignoreVersionSkew: boolean;
}

/**
 * Every reason not to restore from this backup, found before anything changes: a pair that does
 * not belong together (other stamp, other snapshot, other cluster), a snapshot that does not
 * verify, versions other than the ones running (the seed's same-z-stream rule), and encrypted
 * values the archive's keys cannot read. Throws the first as one line; returns the facts.
 */
export async function checkBackup(pair: BackupPair, o: CheckOptions): Promise<CheckedBackup> {
  const s = parseBackupName(pair.snapshot);
  const b = parseBackupName(pair.bundle);
  if (s && b && (s.stamp !== b.stamp || s.possiblyDirty !== b.possiblyDirty)) {
    throw new UserError(
      `${basename(pair.snapshot)} and ${basename(pair.bundle)} are the newest of ${pair.dir} but not one backup (stamps ${s.stamp} and ${b.stamp}): keep each snapshot with the archive made with it, and move the other files out of the folder`,
    );
  }

  let report: InspectReport;
  try {
    report = await inspectBackup({ path: pair.snapshot, bundle: pair.bundle });
  } catch (err) {
    if (err instanceof SnapshotError) throw new UserError(`${INTEGRITY_FAILED} (${errorMessage(err)})`);
    throw err;
  }
  if (report.snapshot.trailer !== 'ok') {
    throw new UserError(`${INTEGRITY_FAILED} (${pair.snapshot} has no sha256 trailer: it was cut short, or is not a snapshot that etcdctl snapshot save wrote)`);
  }
  const refuse = (code: string) => report.warnings.find((w) => w.level === 'error' && w.code === code);
  const pairProblem = refuse('other-backup') ?? refuse('bundle-unreadable');
  if (pairProblem) throw new UserError(`the backup's files do not belong together: ${pairProblem.message}`);

  const manifest = report.bundle?.manifest;
  if (manifest && manifest.snapshot.file !== basename(pair.snapshot)) {
    // The same bytes can come from two backups of a quiet cluster; the archive still names its own.
    throw new UserError(`the backup's files do not belong together: ${basename(pair.bundle)} was made with ${manifest.snapshot.file}, not with ${basename(pair.snapshot)}: restore each snapshot with the archive made with it`);
  }
  if (manifest) {
    const members = memberIds(pair.snapshot);
    if (!members.includes(manifest.etcd.memberID)) {
      throw new UserError(
        `${basename(pair.bundle)} was made for member ${manifest.etcd.memberID} of cluster ${manifest.etcd.clusterID}, which is not a member in ${basename(pair.snapshot)} (members ${members.join(', ') || 'none'}): the two files are from other clusters`,
      );
    }
  }

  if (!o.ignoreVersionSkew) {
    if (!manifest) {
      throw new UserError(`${basename(pair.bundle)} has no etcd-ops-backup.json, so the etcd and etcd-ops versions it was taken with are unknown: pass --ignore-version-skew to restore it anyway`);
    }
    const skew: string[] = [];
    if (manifest.etcd.version !== o.etcdVersion) skew.push(`etcd ${manifest.etcd.version} (this control plane runs ${o.etcdVersion})`);
    if (manifest.etcdOps.version !== etcdOpsVersion) skew.push(`etcd-ops ${manifest.etcdOps.version} (this is ${etcdOpsVersion})`);
    if (skew.length) {
      throw new UserError(`the backup was taken with ${skew.join(' and ')}: restore only a backup of the same release (the same z-stream), or pass --ignore-version-skew if you know the data is compatible`);
    }
  }

  const keys = refuse('key-missing') ?? refuse('decrypt-failed') ?? refuse('no-bundle');
  if (keys) throw new UserError(`the backup's keys cannot decrypt its data: ${keys.message}: restore from a backup whose resources archive holds the keys its data was written with`);

  const podRevisions: Record<string, number> = {};
  for (const p of manifest?.staticPods ?? []) podRevisions[p.pod] = p.revision;
  if (!manifest) {
    for (const d of report.bundle?.staticPods ?? []) {
      const m = /^(.+-pod)-(\d+)$/.exec(d);
      if (m) podRevisions[m[1]!] = Math.max(podRevisions[m[1]!] ?? 0, Number(m[2]));
    }
  }
  return { pair, manifest, report, revision: report.revision, podRevisions };
}

/** Member IDs (hex, as etcd names them) in the snapshot's `members` bucket. */
function memberIds(path: string): string[] {
  const snap = openSnapshot(path);
  try {
    return [...snap.entries('members')].map((e) => e.key.toString('utf8'));
  } catch {
    return [];
  } finally {
    snap.close();
  }
}
