import { basename } from 'node:path';
import { fileStamp } from '../util/fsx.js';

/**
 * Backup file names exactly as OpenShift's cluster-backup.sh makes them:
 *   snapshot_2026-06-30_061502.db
 *   static_kuberesources_2026-06-30_061502.tar.gz
 * and, with --force, `__POSSIBLY_DIRTY__` right after the stamp, before the extension.
 */
export const DIRTY_MARK = '__POSSIBLY_DIRTY__';

export interface BackupNames {
  stamp: string;
  possiblyDirty: boolean;
  snapshot: string;
  resources: string;
}

/** `date "+%F_%H%M%S"` in local time, as the script runs it. */
export function backupStamp(d = new Date()): string {
  return fileStamp(d);
}

export function backupNames(stamp: string, possiblyDirty: boolean): BackupNames {
  const dirty = possiblyDirty ? DIRTY_MARK : '';
  return {
    stamp,
    possiblyDirty,
    snapshot: `snapshot_${stamp}${dirty}.db`,
    resources: `static_kuberesources_${stamp}${dirty}.tar.gz`,
  };
}

export interface ParsedName {
  kind: 'snapshot' | 'resources';
  stamp: string;
  possiblyDirty: boolean;
}

const SNAPSHOT_RE = /^snapshot_(.+?)((?:__POSSIBLY_DIRTY__)?)\.db$/;
const RESOURCES_RE = /^static_kuberesources_(.+?)((?:__POSSIBLY_DIRTY__)?)\.tar\.gz$/;

/** Reads the stamp and dirty mark back from a backup file name (any directory part is ignored). */
export function parseBackupName(path: string): ParsedName | undefined {
  const name = basename(path);
  const s = SNAPSHOT_RE.exec(name);
  if (s) return { kind: 'snapshot', stamp: s[1]!, possiblyDirty: s[2] !== '' };
  const r = RESOURCES_RE.exec(name);
  if (r) return { kind: 'resources', stamp: r[1]!, possiblyDirty: r[2] !== '' };
  return undefined;
}

/** The other file of the same backup: the bundle for a snapshot, the snapshot for a bundle. */
export function pairedName(path: string): string | undefined {
  const p = parseBackupName(path);
  if (!p) return undefined;
  const names = backupNames(p.stamp, p.possiblyDirty);
  return p.kind === 'snapshot' ? names.resources : names.snapshot;
}

/**
 * The newest of a folder's snapshot names, as cluster-restore.sh picks it (`ls -v | tail -1`):
 * digit runs compare as numbers, everything else byte by byte.
 */
export function latestSnapshotName(names: readonly string[]): string | undefined {
  const snaps = names.filter((n) => parseBackupName(n)?.kind === 'snapshot');
  return snaps.sort(versionCompare).at(-1);
}

export function versionCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
