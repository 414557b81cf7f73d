/**
 * The backups in a folder (or a remote's listing): each stamp's snapshot and resources archive,
 * plain or `.age`, with its record. Pure over a list of names and sizes; `listFolder` reads one.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AGE_SUFFIX } from './age.js';
import { stampsInUse } from './in-use.js';
import { parseBackupName } from './names.js';
import { RECORD_RE, readRecord, type BackupRecord } from './record.js';

export interface FileInfo {
  name: string;
  size: number;
}

export interface CatalogEntry {
  stamp: string;
  possiblyDirty: boolean;
  /** File names in the folder. */
  snapshot?: string;
  bundle?: string;
  recordName?: string;
  record?: BackupRecord;
  encrypted: boolean;
  /** The backup's bytes (both files). */
  bytes: number;
  /** When it was made, ms since the epoch. */
  time: number;
  /** Both files there, whole (as their record says, when there is one): restorable. */
  complete: boolean;
  /** Why it is not complete. */
  problem?: string;
  inUse: boolean;
}

/** `snapshot_<stamp>.db[.age]` and friends, with the `.age` taken off first. */
function parseName(name: string): { kind: 'snapshot' | 'resources'; stamp: string; possiblyDirty: boolean; encrypted: boolean } | undefined {
  const encrypted = name.endsWith(AGE_SUFFIX);
  const p = parseBackupName(encrypted ? name.slice(0, -AGE_SUFFIX.length) : name);
  return p ? { ...p, encrypted } : undefined;
}

/** `2026-06-30_061502` as local time, as cluster-backup.sh's `date` wrote it. */
export function stampTime(stamp: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)_(\d\d)(\d\d)(\d\d)$/.exec(stamp);
  if (!m) return 0;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
}

/**
 * Groups files by backup. `requireRecord`: a backup without its record (written last) is not
 * complete; remote copies are judged so, since an upload may have stopped anywhere.
 */
export function catalog(files: FileInfo[], records: Map<string, BackupRecord>, o: { requireRecord: boolean; inUse?: Set<string> }): CatalogEntry[] {
  const byKey = new Map<string, CatalogEntry>();
  const entry = (stamp: string, possiblyDirty: boolean) => {
    const key = `${stamp}/${possiblyDirty}`;
    let e = byKey.get(key);
    if (!e) {
      e = { stamp, possiblyDirty, encrypted: false, bytes: 0, time: stampTime(stamp), complete: false, inUse: o.inUse?.has(stamp) ?? false };
      byKey.set(key, e);
    }
    return e;
  };
  const sizes = new Map(files.map((f) => [f.name, f.size]));
  for (const f of files) {
    const r = RECORD_RE.exec(f.name);
    if (r) {
      const e = entry(r[1]!, r[2] !== '');
      e.recordName = f.name;
      e.record = records.get(f.name);
      continue;
    }
    const p = parseName(f.name);
    if (!p) continue;
    const e = entry(p.stamp, p.possiblyDirty);
    if (p.kind === 'snapshot') e.snapshot = f.name;
    else e.bundle = f.name;
    e.encrypted ||= p.encrypted;
    e.bytes += f.size;
  }
  for (const e of byKey.values()) {
    if (e.record) e.time = Date.parse(e.record.createdAt) || e.time;
    e.problem = problemOf(e, sizes, o.requireRecord);
    e.complete = e.problem === undefined;
  }
  return [...byKey.values()].sort((a, b) => a.time - b.time || (a.stamp < b.stamp ? -1 : 1));
}

function problemOf(e: CatalogEntry, sizes: Map<string, number>, requireRecord: boolean): string | undefined {
  if (e.recordName && !e.record) return `${e.recordName} is unreadable`;
  if (!e.record && requireRecord) return 'no record: the copy did not finish';
  if (e.record) {
    for (const f of e.record.files) {
      const size = sizes.get(f.name);
      if (size === undefined) return `${f.name} is missing`;
      if (size !== f.size) return `${f.name} is ${size} bytes, its record says ${f.size}`;
    }
    return undefined;
  }
  if (!e.snapshot) return 'no snapshot file';
  if (!e.bundle) return 'no resources archive';
  return undefined;
}

/** The backups in a local folder; `.part` files are never backups. */
export function listFolder(dir: string): CatalogEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: FileInfo[] = [];
  const records = new Map<string, BackupRecord>();
  for (const name of names) {
    if (name.startsWith('.') || name.endsWith('.part')) continue;
    let size: number;
    try {
      const st = statSync(join(dir, name));
      if (!st.isFile()) continue;
      size = st.size;
    } catch {
      continue;
    }
    files.push({ name, size });
    if (RECORD_RE.test(name)) {
      const r = readRecord(dir, name);
      if (r) records.set(name, r);
    }
  }
  return catalog(files, records, { requireRecord: false, inUse: stampsInUse(dir) });
}

/** A complete backup not failed by its drill: one that retention must leave the newest of. */
export function isGood(e: CatalogEntry): boolean {
  return e.complete && e.record?.drill?.result !== 'Failed';
}
