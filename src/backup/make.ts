/**
 * A backup with its lifecycle around it: `runBackup` (cluster-backup.sh for one host) into a
 * hidden staging folder beside the target, an optional check of the plaintext there (the
 * controller's drill), then the files either encrypted into the folder (`.age`, the plaintext
 * never under a backup's name there) or moved in as they are, and the record written last.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fstatSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { errorMessage, UserError } from '../util/errors.js';
import { AGE_SUFFIX, encryptFile, type AgeTarget } from './age.js';
import { followEncrypt, type FollowingEncryption } from './age-follow.js';
import { RunFiles } from './files.js';
import { RECORD_API_VERSION, RECORD_KIND, writeRecord, type BackupRecord, type DrillSummary } from './record.js';
import { runBackup, type BackupEvent, type BackupRequest, type BackupResult } from './run.js';

export interface MakeBackupRequest extends BackupRequest {
  encrypt?: AgeTarget;
  scheduled?: BackupRecord['scheduled'];
  /** Runs on the plaintext files before they are sealed (encrypted or moved in); a drill. */
  prove?: (staged: BackupResult) => Promise<DrillSummary | undefined>;
  /** Write a record even for a plain backup (the controller always does). */
  record?: boolean;
  /** The EtcdBackup this backup is the run of: a new leader finds a finished run's files by it. */
  run?: string;
}

export interface MadeBackup {
  dir: string;
  stamp: string;
  snapshotPath: string;
  resourcesPath: string;
  record: BackupRecord;
  recordPath?: string;
  /** The manifest of the plaintext backup. */
  result: BackupResult;
}

const STAGING_PREFIX = '.staging-';

/** Removes staging folders whose process is gone (a crash mid-backup left plaintext there). */
export function removeStaleStaging(dir: string): string[] {
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = new RegExp(`^\\${STAGING_PREFIX}(\\d+)-`).exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (alive && pid !== process.pid) continue;
    if (pid === process.pid) continue;
    rmSync(join(dir, n), { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

export async function makeBackup(req: MakeBackupRequest): Promise<MadeBackup> {
  const dir = resolve(req.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${req.dir} is a file: give a folder to save the backup in`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  removeStaleStaging(dir);
  const staging = join(dir, `${STAGING_PREFIX}${process.pid}-${Date.now()}`);
  let saved: BackupEvent | undefined;
  const run = new RunFiles();
  // With encryption, the snapshot is encrypted on a worker while it downloads (age-follow.ts).
  const follow = req.encrypt ? new Follower(staging, dir, req.encrypt) : undefined;
  try {
    const result = await runBackup({
      ...req,
      dir: staging,
      report: (e) => {
        if (e.kind === 'saved') saved = { ...e, dir: req.dir };
        else req.report(e);
        if (e.kind === 'snapshot-saved') follow?.complete();
      },
    });
    const drill = req.prove ? await req.prove(result) : undefined;
    const sealed: Array<{ name: string; size: number; sha256?: string }> = [];
    const paths: string[] = [];
    for (const src of [result.snapshotPath, result.resourcesPath]) {
      if (req.encrypt) {
        const name = `${basename(src)}${AGE_SUFFIX}`;
        const final = join(dir, name);
        if (src === result.snapshotPath && follow) {
          const r = await follow.finished();
          run.publish(`${final}.part`, final);
          sealed.push({ name, size: r.bytes, sha256: r.sha256 });
          paths.push(final);
          continue;
        }
        if (existsSync(final)) throw new UserError(`${final} exists already: backups are never overwritten; run again in a second or choose another folder`);
        const hash = createHash('sha256');
        const size = await encryptFile(src, `${final}.part`, req.encrypt, run, (c) => hash.update(c));
        run.publish(`${final}.part`, final);
        sealed.push({ name, size, sha256: hash.digest('hex') });
        paths.push(final);
      } else {
        const final = join(dir, basename(src));
        run.publish(src, final);
        sealed.push({ name: basename(src), size: statSync(final).size });
        paths.push(final);
      }
    }
    const m = result.manifest;
    const record: BackupRecord = {
      apiVersion: RECORD_API_VERSION,
      kind: RECORD_KIND,
      stamp: m.stamp,
      createdAt: m.createdAt,
      possiblyDirty: m.possiblyDirty,
      ...(m.host ? { host: m.host } : {}),
      revision: m.etcd.revision,
      encrypted: Boolean(req.encrypt),
      files: sealed,
      ...(req.scheduled ? { scheduled: req.scheduled } : {}),
      ...(req.run ? { run: req.run } : {}),
      ...(drill ? { drill } : {}),
    };
    const recordPath = req.encrypt || req.record ? writeRecord(dir, record) : undefined;
    run.keep();
    rmSync(staging, { recursive: true, force: true });
    if (saved) req.report(saved);
    return { dir, stamp: m.stamp, snapshotPath: paths[0]!, resourcesPath: paths[1]!, record, recordPath, result };
  } catch (err) {
    await follow?.stop();
    run.removeAll();
    rmSync(staging, { recursive: true, force: true });
    throw err instanceof UserError ? err : new UserError(`backup into ${req.dir} failed: ${errorMessage(err)}`);
  }
}

/**
 * Finds the snapshot's `.part` file as soon as the download creates it and encrypts it on a
 * worker as it grows; `complete()` (the snapshot is verified) gives the final size.
 */
class Follower {
  private enc: FollowingEncryption | undefined;
  private fd: number | undefined;
  private dst: string | undefined;
  private result: Promise<{ bytes: number; sha256: string }> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly staging: string,
    private readonly dir: string,
    private readonly target: AgeTarget,
  ) {
    this.timer = setInterval(() => this.look(), 20);
  }

  private look(): void {
    if (this.enc) return;
    let names: string[];
    try {
      names = readdirSync(this.staging);
    } catch {
      return;
    }
    const part = names.find((n) => /^snapshot_.*\.db\.part$/.test(n));
    const done = names.find((n) => /^snapshot_.*\.db$/.test(n));
    const name = part ?? done;
    if (!name) return;
    for (const candidate of [name, name.replace(/\.part$/, '')]) {
      try {
        this.fd = openSync(join(this.staging, candidate), 'r');
        break;
      } catch {
        // Renamed between the listing and the open: try the final name.
      }
    }
    if (this.fd === undefined) return;
    clearInterval(this.timer);
    // The worker creates it exclusively, and publishing links it: neither replaces a file.
    this.dst = join(this.dir, `${name.replace(/\.part$/, '')}${AGE_SUFFIX}.part`);
    this.enc = followEncrypt(this.fd, this.dst, this.target);
  }

  /** The snapshot is complete and verified. */
  complete(): void {
    this.look();
    if (!this.enc || this.fd === undefined) return;
    this.result = this.enc.done(fstatSync(this.fd).size);
  }

  async finished(): Promise<{ bytes: number; sha256: string }> {
    if (!this.result) throw new UserError('the snapshot was never handed to the encryption');
    try {
      return await this.result;
    } catch (err) {
      throw new UserError(`encrypting the snapshot failed: ${errorMessage(err)}`);
    } finally {
      this.close();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.enc && !this.result) await this.enc.abort();
    else if (this.result) await this.result.catch(() => {});
    this.close();
    if (this.dst) rmSync(this.dst, { force: true });
  }

  private close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** SHA-256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on('data', (c) => h.update(c))
      .on('end', () => resolvePromise(h.digest('hex')))
      .on('error', (err) => reject(new UserError(`reading ${path}: ${err.message}`)));
  });
}
