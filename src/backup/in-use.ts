/**
 * "A restore or drill is reading this backup": a marker file per reader in the backup folder's
 * `.in-use/`, named after the backup's stamp and the reader's pid. Retention skips backups with a
 * live marker; a marker whose process is gone (a crash) no longer counts.
 */
import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = '.in-use';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Marks the backup `stamp` in `dir` as read by this process until `fn` settles. */
export async function whileReading<T>(dir: string, stamp: string, what: string, fn: () => Promise<T>): Promise<T> {
  const markers = join(dir, DIR);
  let marker: string | undefined;
  try {
    mkdirSync(markers, { recursive: true, mode: 0o700 });
    marker = join(markers, `${stamp}.${process.pid}`);
    writeFileSync(marker, `${JSON.stringify({ pid: process.pid, what, since: new Date().toISOString() })}\n`, { mode: 0o600 });
  } catch {
    // A read-only folder (a mounted copy) has no retention running on it either.
    marker = undefined;
  }
  try {
    return await fn();
  } finally {
    if (marker) {
      rmSync(marker, { force: true });
      try {
        rmdirSync(markers);
      } catch {
        // Another reader's marker is still there.
      }
    }
  }
}

/** Stamps of the backups in `dir` that a live process is reading. */
export function stampsInUse(dir: string): Set<string> {
  const out = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(join(dir, DIR));
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^(.+)\.(\d+)$/.exec(n);
    if (m && alive(Number(m[2]))) out.add(m[1]!);
  }
  return out;
}
