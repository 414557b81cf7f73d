import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

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
