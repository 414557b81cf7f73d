/**
 * How far to bump the restored revision when --bump-revision is not given: 1.2 times the
 * highest revision found in the data dirs the restore moved aside (read with the snapshot
 * reader, so no etcd needs to run), else OpenShift's 1,000,000,000. The new revision then lies
 * above every revision any client can have seen.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostPaths } from '../home/layout.js';
import { openSnapshot } from '../snapshot/index.js';
import { errorMessage } from '../util/errors.js';
import { restorePaths } from './paths.js';

export const DEFAULT_BUMP = 1_000_000_000n;

export interface DataDirRevision {
  /** The member dir (its snap/db was read). */
  path: string;
  revision?: bigint;
  error?: string;
}

/** 1.2 × the highest readable revision (rounded down, as OpenShift's floor), or the default. */
export function bumpAmount(found: DataDirRevision[]): { amount: bigint; from?: { path: string; revision: bigint } } {
  let best: { path: string; revision: bigint } | undefined;
  for (const f of found) if (f.revision !== undefined && (!best || f.revision > best.revision)) best = { path: f.path, revision: f.revision };
  if (!best || best.revision === 0n) return { amount: DEFAULT_BUMP };
  return { amount: (best.revision * 12n) / 10n, from: best };
}

/** Member dirs moved aside on a host: var/lib/etcd-backup/member*, archives, and the seed's `mv /var/lib/etcd /tmp`. */
export function movedAsideMembers(home: string, host: string): string[] {
  const p = hostPaths(home, host);
  const rp = restorePaths(home, host);
  const out: string[] = [];
  const members = (dir: string, match: (n: string) => boolean) => {
    if (!existsSync(dir)) return;
    for (const n of readdirSync(dir)) if (match(n) && isDir(join(dir, n))) out.push(join(dir, n));
  };
  members(rp.etcdBackup, (n) => n === 'member' || n.startsWith('member.'));
  members(p.etcdDataDir, (n) => n.startsWith('member-removed-archive-'));
  const tmp = join(p.root, 'tmp');
  if (existsSync(tmp)) for (const n of readdirSync(tmp)) if (isDir(join(tmp, n))) members(join(tmp, n), (m) => m === 'member');
  return out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Each member dir's head revision, or why it could not be read (a damaged db is skipped, not fatal). */
export function readRevisions(memberDirs: string[]): DataDirRevision[] {
  return memberDirs.map((path) => {
    const db = join(path, 'snap', 'db');
    if (!existsSync(db)) return { path, error: 'no snap/db' };
    try {
      const snap = openSnapshot(db);
      try {
        return { path, revision: snap.headRevision() };
      } finally {
        snap.close();
      }
    } catch (err) {
      return { path, error: errorMessage(err) };
    }
  });
}
