import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, existsSync, statSync, type Stats } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { UserError } from './errors.js';

/** Writes through a temp file, fsync and rename, so readers never see a half-written file. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A filesystem-safe timestamp, as cluster-backup.sh names files: 2026-06-30_061502. */
export function fileStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * Never delete data: move it aside with a timestamp instead. Returns the new path.
 * `member` becomes `member.moved-2026-06-30_061502` (with a counter if that exists too).
 */
export function moveAside(path: string, label = 'moved'): string {
  const base = `${path}.${label}-${fileStamp()}`;
  let target = base;
  for (let i = 1; existsSync(target); i++) target = `${base}.${i}`;
  renameSync(path, target);
  fsyncDir(dirname(path));
  return target;
}

/** What an errno means, in words, for a message about `path`. */
function errnoWords(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space is left on the device';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'ELOOP':
      return 'too many symbolic links on the way';
    case 'ENOENT':
      // The parent exists (we made or found it): the file system refuses folders here.
      return 'the file system there does not allow new folders (is it /proc, /sys or another special file system?)';
    default:
      return code ?? 'unknown error';
  }
}

/**
 * mkdir -p, bounded and with errors in words (UserError). One mkdir per missing component: Node
 * 20's recursive mkdir spins forever on a pseudo file system that answers ENOENT for a new folder
 * whose parent exists (/proc/x); here that is one clear error.
 */
export function makeDirs(dir: string, mode?: number): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  let p = abs;
  let found: Stats | undefined;
  for (;;) {
    try {
      found = statSync(p);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`cannot create the folder ${dir}: ${p}: ${errnoWords(code)}`);
      missing.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
    }
  }
  if (found && !found.isDirectory()) {
    throw new UserError(`cannot create the folder ${dir}: ${p} is a file, not a folder; choose a path that does not go through a file`);
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m, mode === undefined ? undefined : { mode });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(m).isDirectory()) continue;
      throw new UserError(`cannot create the folder ${dir}: ${m}: ${errnoWords(code)}`);
    }
  }
}
