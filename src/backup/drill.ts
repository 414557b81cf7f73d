/**
 * The restore drill: proof that a backup restores. The snapshot goes into a scratch single
 * member (a temporary data dir, etcd on free loopback ports), and the drill checks that
 *   - the snapshot is whole (sha256 trailer, bbolt tree) and the bundle is the one made with it;
 *   - every encrypted value decrypts with the bundle's keys;
 *   - etcd's HashKV at the snapshot's revision equals the one the snapshot reader computes;
 *   - every key the reader lists is served by etcd at that revision, at the same mod revision.
 * Then it stops the member and removes the scratch folder, and only that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { withClient, type Connection } from '../etcd/connection.js';
import { etcdBinaries } from '../etcd/binaries.js';
import { snapshotRestore } from '../restore/snapshot-restore.js';
import { openSnapshot } from '../snapshot/index.js';
import { errorMessage, UserError } from '../util/errors.js';
import { freePorts } from '../util/ports.js';
import { waitFor } from '../util/time.js';
import { AGE_SUFFIX, type AgeIdentity } from './age.js';
import { openPlain } from './open.js';
import { listFolder } from './catalog.js';
import { inspectBackup } from './inspect.js';
import { liveValues, readerProof, type ReaderProof } from './drill-reader.js';
import { pairedName, parseBackupName } from './names.js';

export interface DrillOptions {
  /** A backup folder (its newest backup), or a snapshot file (`.db` or `.db.age`). */
  path: string;
  bundle?: string;
  identity?: AgeIdentity;
  /** Where the scratch folder goes (default: the system's temp folder). */
  scratchRoot?: string;
  log?: (line: string) => void;
}

export interface DrillStep {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface DrillReport {
  snapshot: string;
  bundle?: string;
  result: 'Passed' | 'Failed';
  /** The first failure, on one line. */
  reason?: string;
  steps: DrillStep[];
  /** What the passed steps proved, one line each. */
  proven: string[];
  revision?: number;
  keys?: number;
  encryptedValues?: number;
  durationMs: number;
  finishedAt: string;
}

class DrillFailure extends Error {}

/** Runs the drill; a failed check is a report with result Failed, never a throw. */
export async function drillBackup(o: DrillOptions): Promise<DrillReport> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const steps: DrillStep[] = [];
  const proven: string[] = [];
  const scratch = mkdtempSync(join(o.scratchRoot ?? tmpdir(), 'etcd-ops-drill-'));
  let member: ChildProcess | undefined;
  let stopping = false;
  let chain: Promise<unknown> | undefined;
  let hashing: Promise<unknown> | undefined;
  let located: { snapshotPath: string; bundlePath?: string } = { snapshotPath: o.path };
  const report = (extra: Partial<DrillReport>): DrillReport => ({
    snapshot: located.snapshotPath,
    ...(located.bundlePath ? { bundle: located.bundlePath } : {}),
    result: 'Passed',
    steps,
    proven,
    durationMs: Date.now() - t0,
    finishedAt: new Date().toISOString(),
    ...extra,
  });
  const step = async <T>(name: string, fn: () => Promise<{ value: T; detail: string; proof?: string }>): Promise<T> => {
    const s = Date.now();
    try {
      const r = await fn();
      steps.push({ name, ok: true, detail: r.detail, ms: Date.now() - s });
      if (r.proof) proven.push(r.proof);
      log(`${name}: ${r.detail}`);
      return r.value;
    } catch (err) {
      const why = errorMessage(err).replace(/\s+/g, ' ');
      steps.push({ name, ok: false, detail: why, ms: Date.now() - s });
      log(`${name}: FAILED: ${why}`);
      throw new DrillFailure(`${name}: ${why}`);
    }
  };

  try {
    located = locateBackup(o);
    const plain = await step('open', async () => {
      const opened = await openPlain([located.snapshotPath, ...(located.bundlePath ? [located.bundlePath] : [])], o.identity, scratch);
      const p = { snapshot: opened.paths[0]!, bundle: opened.paths[1], decrypted: opened.decrypted };
      return { value: p, detail: p.decrypted ? `decrypted ${basename(located.snapshotPath)}${located.bundlePath ? ` and ${basename(located.bundlePath)}` : ''} with ${o.identity!.source}` : `${basename(located.snapshotPath)}${located.bundlePath ? ` with ${basename(located.bundlePath)}` : ', no resources archive'}` };
    });

    // etcdctl restores on its own process while this one reads the snapshot.
    const [peerPort, clientPort] = await freePorts(2);
    const peerURL = `http://127.0.0.1:${peerPort}`;
    const clientURL = `http://127.0.0.1:${clientPort}`;
    const dataDir = join(scratch, 'data');
    const restoring = snapshotRestore({
      snapshot: plain.snapshot,
      dataDir,
      name: 'drill',
      initialCluster: `drill=${peerURL}`,
      initialClusterToken: 'etcd-ops-drill',
      initialAdvertisePeerUrls: peerURL,
      bumpRevision: 0n,
      etcdctl: etcdBinaries().etcdctl,
    });
    restoring.catch(() => {});
    // The member starts and etcd hashes as soon as the restore is done, in their own processes,
    // while this one verifies and reads the snapshot (at each await the chain moves on).
    // A damaged file fails in `verify`, with its reason; until then assume the current revision.
    let rev = 0n;
    try {
      rev = headRevision(plain.snapshot);
    } catch {
      rev = 0n;
    }
    const conn: Connection = { endpoints: [clientURL], commandTimeoutMs: 60_000, dialTimeoutMs: 2_000 };
    let startMs = 0;
    const started = restoring.then(async () => {
      if (stopping) throw new Error('the drill stopped');
      const t = Date.now();
      member = startMember(dataDir, peerURL, clientURL, join(scratch, 'etcd.log'));
      const m = member;
      await waitFor('the scratch member to answer', 120_000, async () => {
        if (m.exitCode !== null) throw new Error(`etcd exited with ${m.exitCode}: ${tail(join(scratch, 'etcd.log'))}`);
        try {
          await withClient({ ...conn, commandTimeoutMs: 2000 }, [clientURL], (c) => c.maintenance.status());
          return true;
        } catch {
          return undefined;
        }
      }, 50);
      startMs = Date.now() - t;
    });
    chain = started;
    const ask = (args: string[]) => started.then(() => (stopping ? Promise.reject(new Error('the drill stopped')) : etcdctlJson(clientURL, args)));
    const etcdHash = ask(['endpoint', 'hashkv', '--rev', String(rev)]).then((r) => Number(r[0].HashKV.hash));
    // Every key, keys only, at the snapshot's revision: what etcd serves.
    const etcdKeys = ask(['get', '', '--from-key', '--keys-only', '--rev', String(rev)]);
    started.catch(() => {});
    etcdHash.catch(() => {});
    etcdKeys.catch(() => {});
    hashing = Promise.allSettled([etcdHash, etcdKeys]);

    // The reader's HashKV and live keys come from one scan of the key bucket, made while inspect
    // asks for the live values (a second, sequential scan yields them).
    let proof: ReaderProof | undefined;
    const inspected = await step('verify', async () => {
      const r = await inspectBackup({
        path: plain.snapshot,
        bundle: plain.bundle,
        liveValues: (snap) => {
          proof = readerProof(snap, rev);
          return liveValues(snap, proof.live);
        },
      });
      const bad = r.warnings.find((w) => w.level === 'error');
      if (bad) throw new Error(bad.message);
      const enc = r.analysis.keysNeeded.reduce((n, k) => n + k.values, 0);
      const total = r.analysis.resources.reduce((n, x) => n + x.keys, 0);
      return {
        value: r,
        detail: `sha256 ${r.snapshot.trailer === 'ok' ? 'trailer matches' : 'absent'}; revision ${r.revision}; ${total} live keys, ${enc} encrypted`,
        proof: `the snapshot is whole (${r.snapshot.trailer === 'ok' ? 'sha256 trailer, ' : ''}bbolt tree of ${r.snapshot.status.totalKey} entries)${r.bundle?.manifest ? ' and the bundle was made with it (manifest sha256)' : ''}`,
      };
    });
    const encrypted = inspected.analysis.keysNeeded.reduce((n, k) => n + k.values, 0);
    if (encrypted) proven.push(`${encrypted} encrypted values decrypt with the bundle's keys (${inspected.analysis.keysNeeded.map((k) => k.id).join(', ')})`);

    const expected = await step('reader', async () => {
      const p = proof!;
      return { value: p, detail: `HashKV at ${rev} is ${p.hash}; ${p.keys.length} live keys (${p.passes === 1 ? 'one pass' : `${p.passes} passes`}, during verify)` };
    });

    await step('restore', async () => {
      const r = await restoring;
      return { value: r, detail: `etcdctl snapshot restore into a scratch data dir in ${r.etcdctlMs} ms` };
    });

    await step('start', async () => {
      await started;
      return { value: undefined, detail: `etcd on ${clientURL}, answering ${startMs} ms after it started` };
    });

    await step('hashkv', async () => {
      const got = await etcdHash;
      if (got !== expected.hash) throw new Error(`etcd's HashKV at revision ${rev} is ${got}, the snapshot reader's is ${expected.hash}: the restored store differs from the snapshot`);
      return { value: got, detail: `${got} at revision ${rev}, as the reader computes`, proof: `etcd restored from it serves the same key space: HashKV ${got} at revision ${rev}` };
    });

    await step('keys', async () => {
      const n = compareKeys(rev, expected.keys, ((await etcdKeys).kvs ?? []) as Array<{ key: string; mod_revision: number }>);
      return { value: n, detail: `${n} keys served at revision ${rev}`, proof: `every one of the ${n} live keys reads back through etcd at its mod revision` };
    });
    return report({ revision: Number(rev), keys: expected.keys.length, encryptedValues: encrypted });
  } catch (err) {
    const reason = err instanceof DrillFailure ? err.message : errorMessage(err);
    return report({ result: 'Failed', reason });
  } finally {
    stopping = true;
    await chain?.catch(() => {});
    // etcdctl retries a member that is gone: let it finish against the running one first.
    await hashing?.catch(() => {});
    if (member) await stopMember(member);
    // Only the folder this drill made: the restored copy, the decrypted files, the member's log.
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The snapshot and its bundle: plain or `.age`, a folder's newest, or the pair of a file's stamp. */
export function locateBackup(o: { path: string; bundle?: string }): { snapshotPath: string; bundlePath?: string } {
  if (!existsSync(o.path)) throw new UserError(`${o.path}: no such file or folder`);
  if (o.bundle !== undefined && !existsSync(o.bundle)) throw new UserError(`--bundle ${o.bundle}: no such file`);
  if (statSync(o.path).isDirectory()) {
    const newest = listFolder(o.path).filter((e) => e.snapshot).pop();
    if (!newest) throw new UserError(`${o.path} holds no snapshot_*.db or snapshot_*.db.age: give the backup folder or a snapshot file`);
    return { snapshotPath: join(o.path, newest.snapshot!), bundlePath: o.bundle ?? (newest.bundle ? join(o.path, newest.bundle) : undefined) };
  }
  const plainName = o.path.endsWith(AGE_SUFFIX) ? o.path.slice(0, -AGE_SUFFIX.length) : o.path;
  const paired = pairedName(plainName);
  const sibling = paired ? [paired, `${paired}${AGE_SUFFIX}`].map((n) => join(dirname(o.path), n)).find((p) => existsSync(p)) : undefined;
  if (parseBackupName(plainName)?.kind === 'resources') {
    if (!sibling) throw new UserError(`${o.path} is a resources archive and its snapshot is not next to it: give the snapshot file, with --bundle ${o.path}`);
    return { snapshotPath: sibling, bundlePath: o.path };
  }
  return { snapshotPath: o.path, bundlePath: o.bundle ?? sibling };
}

/** The snapshot's head revision (its last key's), without reading the rest. */
function headRevision(path: string): bigint {
  const snap = openSnapshot(path);
  try {
    return snap.headRevision();
  } finally {
    snap.close();
  }
}

function startMember(dataDir: string, peerURL: string, clientURL: string, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a', 0o600);
  const child = spawn(
    etcdBinaries().etcd,
    ['--name', 'drill', '--data-dir', dataDir, '--listen-client-urls', clientURL, '--advertise-client-urls', clientURL, '--listen-peer-urls', peerURL, '--initial-advertise-peer-urls', peerURL, '--initial-cluster', `drill=${peerURL}`, '--quota-backend-bytes', String(8 * 1024 ** 3)],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  return child;
}

async function stopMember(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** etcdctl's JSON answer, on its own process (the etcd3 client has no HashKV, and decoding a big range there costs this process's CPU). */
function etcdctlJson(endpoint: string, args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(etcdBinaries().etcdctl, ['--endpoints', endpoint, '--command-timeout', '120s', ...args, '-w', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4096)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`etcdctl ${args.slice(0, 2).join(' ')} failed: ${err.trim().split('\n').pop()}`));
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
      } catch (e) {
        reject(new Error(`etcdctl ${args.slice(0, 2).join(' ')}: unexpected output (${errorMessage(e)})`));
      }
    });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-2).join(' ').slice(-300);
  } catch {
    return '';
  }
}

/** etcd's keys at `rev` (etcdctl's JSON, keys base64, in key order) beside the reader's; the first difference fails. */
function compareKeys(rev: bigint, want: Array<{ key: Buffer; mod: bigint }>, got: Array<{ key: string; mod_revision: number }>): number {
  const name = (k: Buffer) => JSON.stringify(k.toString('utf8'));
  for (let i = 0; i < got.length; i++) {
    const k = Buffer.from(got[i]!.key, 'base64');
    const w = want[i];
    if (!w) throw new Error(`etcd serves ${name(k)}, which the snapshot does not hold at revision ${rev}`);
    if (!w.key.equals(k)) throw new Error(`the snapshot holds ${name(w.key)} and etcd does not serve it at revision ${rev} (next served: ${name(k)})`);
    if (BigInt(got[i]!.mod_revision) !== w.mod) throw new Error(`${name(k)}: etcd serves mod revision ${got[i]!.mod_revision}, the snapshot has ${w.mod}`);
  }
  if (got.length < want.length) throw new Error(`etcd serves ${got.length} keys at revision ${rev}; the snapshot holds ${want.length}: ${name(want[got.length]!.key)} is missing`);
  return got.length;
}

/** The drill's result for a record and the API: passed or the reason, what it proved, how long. */
export function drillSummary(r: DrillReport) {
  return { result: r.result, at: r.finishedAt, durationMs: r.durationMs, ...(r.reason ? { reason: r.reason } : {}), proven: r.proven };
}

