import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { which } from '../etcd/binaries.js';
import { UserError } from '../util/errors.js';
import { fsyncDir } from '../util/fsx.js';
import { rewriteDb, type RewriteResult } from './rewrite.js';

export interface SnapshotRestoreOptions {
  snapshot: string;
  dataDir: string;
  name: string;
  initialCluster: string;
  initialClusterToken: string;
  initialAdvertisePeerUrls: string;
  /** Revisions to add, with the compaction mark (0n: a plain restore). */
  bumpRevision: bigint;
  skipHashCheck?: boolean;
  /** The etcdctl binary (3.4: no --bump-revision of its own). */
  etcdctl: string;
  log?: (line: string) => void;
}

export interface SnapshotRestoreResult {
  dataDir: string;
  /** The db rewrite, when there was a bump. */
  rewrite?: RewriteResult;
  etcdctlMs: number;
  rewriteMs: number;
}

/**
 * `snapshot restore` with etcd 3.5.10's `--bump-revision N --mark-compacted` on an etcd 3.4
 * etcdctl: etcdctl restores into a temp dir next to the data dir (WAL, membership, consistent
 * index), the bump rewrites member/snap/db with our bbolt writer, and only a complete result
 * is moved into place. The data dir must be missing or empty: nothing in it is ever replaced.
 */
export async function snapshotRestore(o: SnapshotRestoreOptions): Promise<SnapshotRestoreResult> {
  const log = o.log ?? (() => {});
  const dataDir = resolve(o.dataDir);
  if (!existsSync(o.snapshot)) throw new UserError(`snapshot ${o.snapshot} does not exist`);
  if (!statSync(o.snapshot).isFile()) throw new UserError(`snapshot ${o.snapshot} is not a file`);
  checkEmptyDataDir(dataDir);

  mkdirSync(dirname(dataDir), { recursive: true });
  // Same filesystem as the data dir, so the result moves in with a rename.
  const tmp = mkdtempSync(join(dirname(dataDir), `.${basename(dataDir)}.restore-`));
  const out = join(tmp, 'data');
  try {
    const t0 = Date.now();
    await runEtcdctlRestore(o, out);
    const etcdctlMs = Date.now() - t0;
    log(`restored ${o.snapshot} with etcdctl (member ${o.name}, cluster token ${o.initialClusterToken})`);

    let rewrite: RewriteResult | undefined;
    const t1 = Date.now();
    if (o.bumpRevision > 0n) {
      rewrite = rewriteDb(join(out, 'member', 'snap', 'db'), { bump: o.bumpRevision });
      const b = rewrite.bump!;
      log(`bumped the latest revision ${b.latest.main} by ${o.bumpRevision} to ${b.bumped} and marked it compacted (scheduledCompactRev ${b.bumped})`);
    }
    const rewriteMs = Date.now() - t1;

    // The data dir was checked above; check again right before moving in (it may have changed).
    checkEmptyDataDir(dataDir);
    if (existsSync(dataDir)) {
      for (const name of readdirSync(out)) renameSync(join(out, name), join(dataDir, name));
      fsyncDir(dataDir);
      rmdirSync(out);
    } else {
      renameSync(out, dataDir);
    }
    fsyncDir(dirname(dataDir));
    rmdirSync(tmp);
    log(`data dir ${dataDir} is ready`);
    return { dataDir, rewrite, etcdctlMs, rewriteMs };
  } catch (err) {
    // Only our own temp dir: a partial restore made from copies of the snapshot.
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** etcdctl from ETCDCTL_BIN or PATH: a restore needs no etcd server binary. */
export function etcdctlBinary(): string {
  const want = process.env.ETCDCTL_BIN ?? 'etcdctl';
  const found = which(want);
  if (!found) throw new UserError(process.env.ETCDCTL_BIN ? `ETCDCTL_BIN=${want} is not an executable: fix or unset it` : 'etcdctl is not installed: install etcd-client (3.4), or set ETCDCTL_BIN');
  return found;
}

function checkEmptyDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  if (!statSync(dataDir).isDirectory()) throw new UserError(`data dir ${dataDir} exists and is not a directory: choose another --data-dir`);
  const entries = readdirSync(dataDir);
  if (entries.length > 0) {
    throw new UserError(`data dir ${dataDir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}): restore needs an empty or missing data dir; move its contents aside first`);
  }
}

function runEtcdctlRestore(o: SnapshotRestoreOptions, out: string): Promise<void> {
  const args = [
    'snapshot', 'restore', o.snapshot,
    '--data-dir', out,
    '--name', o.name,
    '--initial-cluster', o.initialCluster,
    '--initial-cluster-token', o.initialClusterToken,
    '--initial-advertise-peer-urls', o.initialAdvertisePeerUrls,
    ...(o.skipHashCheck ? ['--skip-hash-check'] : []),
  ];
  return new Promise((resolveRun, reject) => {
    const child = spawn(o.etcdctl, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      // Its zap log is chatty; keep the tail, where the error is.
      stderr = (stderr + d).slice(-16_384);
    });
    child.on('error', (err) => reject(new UserError(`cannot run ${o.etcdctl}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolveRun();
      reject(new UserError(`etcdctl snapshot restore of ${o.snapshot} failed: ${etcdctlError(stderr) ?? (signal ? `killed by ${signal}` : `exit ${code}`)}`));
    });
  });
}

/** etcdctl's own error line ("Error: expected sha256 ..."), without the zap log around it. */
export function etcdctlError(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.filter((l) => l.startsWith('Error:')).pop();
  if (err) return hint(err.slice('Error:'.length).trim());
  const last = lines.pop();
  return last === undefined ? undefined : hint(last);
}

function hint(msg: string): string {
  if (msg.includes('snapshot missing hash')) return `${msg} (a raw member/snap/db has no sha256 trailer: add --skip-hash-check)`;
  if (msg.includes('expected sha256')) return 'the snapshot does not match its sha256 trailer: the file is damaged or was modified';
  return msg;
}
