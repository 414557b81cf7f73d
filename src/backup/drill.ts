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
import { prefixRangeEnd } from '../storage/keys.js';
import { errorMessage, UserError } from '../util/errors.js';
import { freePorts } from '../util/ports.js';
import { waitFor } from '../util/time.js';
import { AGE_SUFFIX, type AgeIdentity } from './age.js';
import { openPlain } from './open.js';
import { listFolder } from './catalog.js';
import { inspectBackup } from './inspect.js';
import { readerProof } from './drill-reader.js';
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

    const inspected = await step('verify', async () => {
      const r = await inspectBackup({ path: plain.snapshot, bundle: plain.bundle });
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
    const rev = BigInt(inspected.snapshot.status.revision);

    const expected = await step('reader', async () => {
      const snap = openSnapshot(plain.snapshot);
      try {
        const p = readerProof(snap, rev);
        return { value: p, detail: `HashKV at ${rev} is ${p.hash}; ${p.keys.length} live keys (${p.passes === 1 ? 'one pass' : `${p.passes} passes`})` };
      } finally {
        snap.close();
      }
    });

    await step('restore', async () => {
      const r = await restoring;
      return { value: r, detail: `etcdctl snapshot restore into a scratch data dir in ${r.etcdctlMs} ms` };
    });

    const conn: Connection = { endpoints: [clientURL], commandTimeoutMs: 60_000, dialTimeoutMs: 2_000 };
    await step('start', async () => {
      member = startMember(dataDir, peerURL, clientURL, join(scratch, 'etcd.log'));
      const started = member;
      await waitFor('the scratch member to answer', 120_000, async () => {
        if (started.exitCode !== null) throw new Error(`etcd exited with ${started.exitCode}: ${tail(join(scratch, 'etcd.log'))}`);
        try {
          await withClient({ ...conn, commandTimeoutMs: 2000 }, [clientURL], (c) => c.maintenance.status());
          return true;
        } catch {
          return undefined;
        }
      });
      return { value: undefined, detail: `etcd on ${clientURL}` };
    });

    await step('hashkv', async () => {
      const got = await etcdHashKV(clientURL, rev);
      if (got !== expected.hash) throw new Error(`etcd's HashKV at revision ${rev} is ${got}, the snapshot reader's is ${expected.hash}: the restored store differs from the snapshot`);
      return { value: got, detail: `${got} at revision ${rev}, as the reader computes`, proof: `etcd restored from it serves the same key space: HashKV ${got} at revision ${rev}` };
    });

    await step('keys', async () => {
      const n = await compareKeys(conn, clientURL, rev, expected.keys);
      return { value: n, detail: `${n} keys served at revision ${rev}`, proof: `every one of the ${n} live keys reads back through etcd at its mod revision` };
    });
    return report({ revision: Number(rev), keys: expected.keys.length, encryptedValues: encrypted });
  } catch (err) {
    const reason = err instanceof DrillFailure ? err.message : errorMessage(err);
    return report({ result: 'Failed', reason });
  } finally {
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

/** `etcdctl endpoint hashkv --rev R`: the etcd3 client has no HashKV call. */
function etcdHashKV(endpoint: string, rev: bigint): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(etcdBinaries().etcdctl, ['--endpoints', endpoint, '--command-timeout', '120s', 'endpoint', 'hashkv', '--rev', String(rev), '-w', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4096)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`etcdctl endpoint hashkv failed: ${err.trim().split('\n').pop()}`));
      try {
        resolve(Number(JSON.parse(out)[0].HashKV.hash));
      } catch (e) {
        reject(new Error(`etcdctl endpoint hashkv: unexpected output (${errorMessage(e)})`));
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

/** Keys-only pages at `rev`, walked beside the reader's list; the first difference fails. */
async function compareKeys(conn: Connection, endpoint: string, rev: bigint, want: Array<{ key: Buffer; mod: bigint }>): Promise<number> {
  const PAGE = 10_000;
  let i = 0;
  let from = Buffer.alloc(1, 0);
  const end = prefixRangeEnd(Buffer.alloc(0));
  await withClient(conn, [endpoint], async (c) => {
    for (;;) {
      const r = await c.kv.range({ key: from, range_end: end, revision: String(rev), limit: String(PAGE), keys_only: true });
      for (const kv of r.kvs) {
        const w = want[i];
        const k = kv.key as Buffer;
        if (!w) throw new Error(`etcd serves ${JSON.stringify(k.toString('utf8'))}, which the snapshot does not hold at revision ${rev}`);
        if (!w.key.equals(k)) {
          throw new Error(`the snapshot holds ${JSON.stringify(w.key.toString('utf8'))} and etcd does not serve it at revision ${rev} (next served: ${JSON.stringify(k.toString('utf8'))})`);
        }
        if (BigInt(kv.mod_revision) !== w.mod) throw new Error(`${JSON.stringify(k.toString('utf8'))}: etcd serves mod revision ${kv.mod_revision}, the snapshot has ${w.mod}`);
        i++;
      }
      if (!r.more || r.kvs.length === 0) break;
      from = Buffer.concat([r.kvs[r.kvs.length - 1]!.key as Buffer, Buffer.alloc(1, 0)]);
    }
  });
  if (i < want.length) throw new Error(`etcd serves ${i} keys at revision ${rev}; the snapshot holds ${want.length}: ${JSON.stringify(want[i]!.key.toString('utf8'))} is missing`);
  return i;
}

/** The drill's result for a record and the API: passed or the reason, what it proved, how long. */
export function drillSummary(r: DrillReport) {
  return { result: r.result, at: r.finishedAt, durationMs: r.durationMs, ...(r.reason ? { reason: r.reason } : {}), proven: r.proven };
}

