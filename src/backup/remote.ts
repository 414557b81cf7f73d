/**
 * Off-host copies through rclone (any of its backends: S3, GCS, Azure, SFTP, WebDAV, ...).
 * A push uploads a backup's files, verifies each by size and SHA-256 (read back from the remote),
 * and uploads the record last: a remote backup without its record, or whose sizes differ from
 * it, is an interrupted copy and never listed as good. A pull downloads into `.part` files,
 * verifies them against the record, and only then gives them their names.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { fsyncDir } from '../util/fsx.js';
import { catalog, listFolder, type CatalogEntry, type FileInfo } from './catalog.js';
import { sha256File } from './make.js';
import { readBundle } from './archive.js';
import { parseManifest } from './manifest.js';
import { parseRecord, RECORD_API_VERSION, RECORD_KIND, recordName, writeRecord, type BackupRecord } from './record.js';

export interface RcloneOptions {
  /** An rclone.conf; default: rclone's own (RCLONE_CONFIG or ~/.config/rclone/rclone.conf). */
  config?: string;
  /** The rclone binary (default: rclone on PATH). */
  bin?: string;
}

export function joinRemote(remote: string, name: string): string {
  return remote.endsWith(':') || remote.endsWith('/') ? `${remote}${name}` : `${remote}/${name}`;
}

/** Runs rclone; its error, on one line, is the UserError. */
export function rclone(args: string[], o: RcloneOptions = {}): Promise<string> {
  const full = [...(o.config ? ['--config', o.config] : []), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(o.bin ?? 'rclone', full, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-8192)));
    child.on('error', (e) => reject(new UserError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'rclone is not installed: install Debian\'s rclone (scripts/setup.sh does)' : `cannot run rclone: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve(out);
      const line = err.split('\n').map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim()).filter((l) => /ERROR|Failed|error/i.test(l)).pop() ?? err.trim().split('\n').pop() ?? `exit ${code}`;
      reject(new UserError(`rclone ${args[0]} failed: ${line}`));
    });
  });
}

/** The backups at a remote path, judged complete only with a record whose sizes match. */
export async function listRemote(remote: string, o: RcloneOptions = {}): Promise<CatalogEntry[]> {
  let raw: Array<{ Name: string; Size: number; IsDir: boolean }>;
  try {
    raw = JSON.parse(await rclone(['lsjson', remote], o));
  } catch (err) {
    if (err instanceof UserError && /directory not found|not found/i.test(err.message)) return [];
    throw err;
  }
  const files: FileInfo[] = raw.filter((f) => !f.IsDir).map((f) => ({ name: f.Name, size: f.Size }));
  const records = new Map<string, BackupRecord>();
  for (const f of files) {
    if (!/^backup_.*\.json$/.test(f.name)) continue;
    try {
      records.set(f.name, parseRecord(await rclone(['cat', joinRemote(remote, f.name)], o), joinRemote(remote, f.name)));
    } catch {
      // An unreadable record: the catalog reports that backup as incomplete.
    }
  }
  return catalog(files, records, { requireRecord: true });
}

async function remoteSha256(path: string, o: RcloneOptions): Promise<string | undefined> {
  const out = await rclone(['hashsum', 'sha256', '--download', path], o);
  return /^([0-9a-f]{64})\s/.exec(out)?.[1];
}

/** A local backup's record, made (with sizes and SHA-256) when it has none, as the push needs. */
export async function ensureRecord(dir: string, e: CatalogEntry, withHashes = true): Promise<BackupRecord> {
  let rec = e.record;
  if (!rec) {
    if (!e.bundle || e.encrypted) throw new UserError(`${join(dir, e.snapshot ?? e.stamp)}: no record and no plain resources archive to make one from`);
    const bundle = await readBundle(join(dir, e.bundle));
    const m = bundle.manifest ? parseManifest(bundle.manifest, join(dir, e.bundle)) : undefined;
    rec = {
      apiVersion: RECORD_API_VERSION,
      kind: RECORD_KIND,
      stamp: e.stamp,
      createdAt: m?.createdAt ?? new Date(e.time).toISOString(),
      possiblyDirty: e.possiblyDirty,
      ...(m?.host ? { host: m.host } : {}),
      revision: m?.etcd.revision ?? 0,
      encrypted: false,
      files: [e.snapshot!, e.bundle].map((name) => ({ name, size: statSync(join(dir, name)).size })),
    };
  }
  let changed = !e.record;
  for (const f of rec.files) {
    if (withHashes && !f.sha256) {
      f.sha256 = await sha256File(join(dir, f.name));
      changed = true;
    }
  }
  if (changed) writeRecord(dir, rec);
  return rec;
}

export interface PushResult {
  stamp: string;
  pushed: boolean;
  files: string[];
}

/** Pushes one backup of `dir` (by stamp) to the remote path, verified; a complete copy there is kept. */
export async function pushBackup(dir: string, e: CatalogEntry, remote: string, o: RcloneOptions = {}, existing?: CatalogEntry[]): Promise<PushResult> {
  const rec = await ensureRecord(dir, e);
  const there = (existing ?? (await listRemote(remote, o))).find((r) => r.stamp === e.stamp && r.possiblyDirty === e.possiblyDirty && r.complete);
  if (there) return { stamp: e.stamp, pushed: false, files: [] };
  for (const f of rec.files) {
    const target = joinRemote(remote, f.name);
    await rclone(['copyto', join(dir, f.name), target], o);
    const sum = await remoteSha256(target, o);
    if (sum !== f.sha256) throw new UserError(`the copy of ${f.name} at ${target} does not verify: its SHA-256 is ${sum ?? 'unreadable'}, the file's is ${f.sha256}`);
  }
  // The record goes last: it is what makes the remote copy a backup.
  const name = recordName(rec.stamp, rec.possiblyDirty);
  await rclone(['copyto', join(dir, name), joinRemote(remote, name)], o);
  return { stamp: e.stamp, pushed: true, files: [...rec.files.map((f) => f.name), name] };
}

/** Pushes every complete backup of a folder that the remote lacks. */
export async function pushFolder(dir: string, remote: string, o: RcloneOptions = {}): Promise<PushResult[]> {
  if (!existsSync(dir)) throw new UserError(`${dir}: no such folder`);
  const local = listFolder(dir).filter((e) => e.complete);
  if (local.length === 0) throw new UserError(`${dir} holds no complete backup to push`);
  const existing = await listRemote(remote, o);
  const out: PushResult[] = [];
  for (const e of local) out.push(await pushBackup(dir, e, remote, o, existing));
  return out;
}

/** Pulls every good remote backup missing from `dir` (or only `stamp`), each file verified before it is named. */
export async function pullBackups(remote: string, dir: string, o: RcloneOptions & { stamp?: string } = {}): Promise<PushResult[]> {
  const entries = (await listRemote(remote, o)).filter((e) => e.complete && (!o.stamp || e.stamp === o.stamp));
  if (entries.length === 0) throw new UserError(`${remote} holds no complete backup${o.stamp ? ` with stamp ${o.stamp}` : ''} (a copy without its record did not finish)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const local = new Set(listFolder(dir).filter((e) => e.complete).map((e) => `${e.stamp}/${e.possiblyDirty}`));
  const out: PushResult[] = [];
  for (const e of entries) {
    if (local.has(`${e.stamp}/${e.possiblyDirty}`)) {
      out.push({ stamp: e.stamp, pushed: false, files: [] });
      continue;
    }
    const rec = e.record!;
    for (const f of rec.files) {
      const part = join(dir, `${f.name}.part`);
      await rclone(['copyto', joinRemote(remote, f.name), part], o);
      const sum = await sha256File(part);
      if (f.sha256 && sum !== f.sha256) throw new UserError(`${f.name} from ${remote} does not verify: its SHA-256 is ${sum}, the record says ${f.sha256}`);
      if (statSync(part).size !== f.size) throw new UserError(`${f.name} from ${remote} is ${statSync(part).size} bytes, the record says ${f.size}`);
    }
    for (const f of rec.files) {
      const final = join(dir, f.name);
      if (existsSync(final)) throw new UserError(`${final} exists already: backups are never overwritten`);
      renameSync(join(dir, `${f.name}.part`), final);
    }
    writeRecord(dir, rec);
    fsyncDir(dir);
    out.push({ stamp: e.stamp, pushed: true, files: [...rec.files.map((f) => f.name), recordName(rec.stamp, rec.possiblyDirty)] });
  }
  return out;
}
