import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bins, etcdctl, startEtcd, type StartedEtcd } from './helpers/etcd.js';
import { etcdctlLarge, etcdctlStatus, etcdOps, txnPuts } from './helpers/snapshots.js';
import { tempDir } from './helpers/cleanup.js';
import { openSnapshot } from '../src/snapshot/index.js';
import { formatStatus } from '../src/cli/printers/snapshot.js';
import { snapshotHashKV, HashKVError } from '../src/snapshot/hashkv.js';
import { DbTree } from '../src/snapshot/tree.js';
import { FileSource } from '../src/snapshot/source.js';
import { revisionKey } from '../src/snapshot/revision.js';
import { rewriteDb } from '../src/restore/rewrite.js';

/** Every bucket of a db file as [name, [key hex, value hex | bucket]] lists. */
function contents(path: string): Map<string, Array<[string, string]>> {
  const tree = new DbTree(new FileSource(path));
  try {
    const out = new Map<string, Array<[string, string]>>();
    for (const top of tree.root().entries()) {
      out.set(top.key.toString(), [...top.bucket!.entries()].map((e) => [e.key.toString('hex'), e.bucket ? 'bucket' : e.value!.toString('hex')]));
    }
    return out;
  } finally {
    tree.close();
  }
}

const revOf = (json: string) => Number(JSON.parse(json).header.revision);
const kvsOf = (json: string) => JSON.parse(json).kvs as unknown[];

/** `etcdctl endpoint hashkv --rev R -w json` → hash, or the error text. */
function liveHashKV(m: StartedEtcd, rev: number): { hash?: number; error?: string } {
  const r = spawnSync(bins.etcdctl, [...m.ctlArgs, 'endpoint', 'hashkv', '--rev', String(rev), '-w', 'json'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  if (r.status !== 0) return { error: r.stderr };
  return { hash: JSON.parse(r.stdout)[0].HashKV.hash };
}

function ourHashKV(file: string, rev: number): { hash?: number; error?: string } {
  const snap = openSnapshot(file);
  try {
    return { hash: snapshotHashKV(snap, BigInt(rev)).hash };
  } catch (err) {
    if (err instanceof HashKVError) return { error: err.message };
    throw err;
  } finally {
    snap.close();
  }
}

/**
 * `etcd-ops snapshot restore --bump-revision N --mark-compacted` on a real etcd 3.4 snapshot,
 * then etcd 3.4 started on the result; the bbolt writer and HashKV against etcd's own answers.
 */
describe('snapshot restore with a revision bump, on real etcd 3.4', { timeout: 120_000 }, () => {
  let dir: string;
  let source: StartedEtcd | undefined;
  let restored: StartedEtcd | undefined;
  let snap: string;
  let snapRev: number;
  let compactedAt: number;
  let original: unknown[];
  const BUMP = 1_000_000_000;

  before(async () => {
    dir = tempDir('etcd-ops-restore-');
    source = await startEtcd({ dataDir: join(dir, 'source'), extraArgs: ['--max-txn-ops', '1000'] });
    const m = source;
    // Enough records for branch pages, values on overflow pages, a lease, history, deletes.
    etcdctl(m, ['txn'], txnPuts(Array.from({ length: 400 }, (_, i) => [`/registry/pods/ns-${i % 7}/pod-${String(i).padStart(4, '0')}`, `spec-${i}-${'x'.repeat(i % 60)}`])));
    for (let i = 0; i < 3; i++) etcdctl(m, ['put', `/big/${i}`, String(i).repeat(100 * 1024)]);
    const lease = /lease ([0-9a-f]+) granted/.exec(etcdctl(m, ['lease', 'grant', '3600']))![1];
    etcdctl(m, ['put', '--lease', lease, '/leased/a', 'with-lease']);
    for (let g = 0; g < 6; g++) etcdctl(m, ['txn'], txnPuts(Array.from({ length: 10 }, (_, i) => [`/hist/${i}`, `gen-${g}`])));
    etcdctl(m, ['del', '/hist/0']);
    etcdctl(m, ['del', '--prefix', '/registry/pods/ns-3/']);
    compactedAt = revOf(etcdctl(m, ['get', 'x', '-w', 'json'])) - 3;
    etcdctl(m, ['compact', String(compactedAt), '--physical']);
    for (let g = 6; g < 9; g++) etcdctl(m, ['txn'], txnPuts(Array.from({ length: 5 }, (_, i) => [`/hist/${i}`, `gen-${g}`])));
    etcdctl(m, ['del', '/hist/4']);
    snap = join(dir, 'snapshot.db');
    etcdctl(m, ['snapshot', 'save', snap]);
    snapRev = revOf(etcdctl(m, ['get', 'x', '-w', 'json']));
    original = kvsOf(etcdctlLarge(m, ['get', '', '--prefix', '-w', 'json']));
    assert.ok(original.length > 300);
  });

  after(async () => {
    await source?.stop();
    await restored?.stop();
  });

  it('HashKV of the snapshot equals `etcdctl endpoint hashkv` of the member, at every revision it answers', () => {
    const revs = [snapRev, snapRev - 1, compactedAt + 1, compactedAt + 3, 0, compactedAt, compactedAt - 10, snapRev + 1];
    for (const rev of revs) {
      const live = rev === 0 ? liveHashKV(source!, snapRev) : liveHashKV(source!, rev);
      const ours = ourHashKV(snap, rev);
      if (live.error !== undefined) {
        assert.ok(ours.error !== undefined, `rev ${rev}: etcd says ${live.error.trim()}, we hashed`);
        assert.match(live.error, /required revision (has been compacted|is a future revision)/);
        assert.equal(/compacted/.test(live.error), /compacted/.test(ours.error), `rev ${rev}: ${ours.error} vs ${live.error}`);
      } else assert.equal(ours.hash, live.hash, `HashKV at revision ${rev}`);
    }
    assert.ok(liveHashKV(source!, compactedAt).error, 'a compacted revision is refused');
  });

  it('the writer round-trips a real snapshot: same buckets, keys and values; etcdctl agrees', () => {
    const out = join(dir, 'rewritten.db');
    const res = rewriteDb(snap, { out });
    assert.equal(res.bump, undefined);
    assert.deepEqual(contents(out), contents(snap));
    const theirs = JSON.parse(etcdctlStatus(snap, 'json'));
    const ours = JSON.parse(etcdctlStatus(out, 'json'));
    assert.deepEqual({ ...ours, totalSize: 0 }, { ...theirs, totalSize: 0 }, 'hash, revision and key count');
    const st = openSnapshot(out);
    try {
      assert.equal(formatStatus(st.status(), 'json'), etcdctlStatus(out, 'json'));
      assert.ok(st.bucketStats('key').branchPages > 0 && st.bucketStats('key').overflowPages > 0);
    } finally {
      st.close();
    }
  });

  it('restores with --bump-revision N --mark-compacted into a data dir etcd 3.4 serves, revisions moved forward', async () => {
    const plain = join(dir, 'plain');
    const dataDir = join(dir, 'restored');
    const flags = ['--name', 'restored', '--initial-cluster', 'restored=http://127.0.0.1:2380', '--initial-cluster-token', 'restore-token', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'];
    // The same restore without the bump, by etcdctl itself, to compare the db with.
    const r0 = spawnSync(bins.etcdctl, ['snapshot', 'restore', snap, '--data-dir', plain, ...flags], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    assert.equal(r0.status, 0, r0.stderr);

    const r = etcdOps(['snapshot', 'restore', snap, '--data-dir', dataDir, ...flags, '--bump-revision', String(BUMP), '--mark-compacted']);
    assert.equal(r.status, 0, r.stderr);
    const bumped = snapRev + BUMP;
    assert.match(r.stdout, new RegExp(`Revision ${snapRev} bumped to ${bumped}, marked compacted: the next write gets revision ${bumped + 1}`));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.restored')), [], 'no temp dir left behind');

    // The db is etcdctl's, plus exactly the placeholder revision and the compaction mark.
    const db = join(dataDir, 'member', 'snap', 'db');
    const want = contents(join(plain, 'member', 'snap', 'db'));
    want.get('key')!.push([revisionKey({ main: BigInt(bumped), sub: 0n }).toString('hex'), '']);
    const meta = want.get('meta')!.filter(([k]) => k !== Buffer.from('scheduledCompactRev').toString('hex'));
    meta.push([Buffer.from('scheduledCompactRev').toString('hex'), revisionKey({ main: BigInt(bumped), sub: 0n }).toString('hex')]);
    want.set('meta', meta.sort(([a], [b]) => (a < b ? -1 : 1)));
    assert.deepEqual(contents(db), want);
    // Our reader and etcdctl agree on the written file.
    const st = openSnapshot(db);
    try {
      assert.equal(formatStatus(st.status(), 'json'), etcdctlStatus(db, 'json'));
      assert.equal(st.status().revision, BigInt(bumped));
    } finally {
      st.close();
    }

    restored = await startEtcd({ dataDir, name: 'restored' });
    const m = restored;
    // Every key and value as it was, with its revisions.
    const after = etcdctlLarge(m, ['get', '', '--prefix', '-w', 'json']);
    assert.deepEqual(kvsOf(after), original);
    assert.equal(revOf(after), bumped);
    // Old revisions are compacted.
    for (const rev of [snapRev, compactedAt + 1, 1]) {
      const g = spawnSync(bins.etcdctl, [...m.ctlArgs, 'get', '/hist/1', '--rev', String(rev)], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      assert.notEqual(g.status, 0);
      assert.match(g.stderr, /required revision has been compacted/);
    }
    // A watch from before the restore is cancelled as compacted.
    const w = spawnSync(bins.etcdctl, [...m.ctlArgs, 'watch', '/hist/1', '--rev', String(snapRev)], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, ETCDCTL_API: '3' } });
    assert.match(`${w.stdout}${w.stderr}`, /watch was canceled \(etcdserver: mvcc: required revision has been compacted\)/);
    // The next write lands above the bump.
    assert.equal(revOf(etcdctl(m, ['put', '/after/restore', 'yes', '-w', 'json'])), bumped + 1);
    const lease = JSON.parse(etcdctl(m, ['get', '/leased/a', '-w', 'json'])).kvs[0];
    assert.ok(lease.lease, 'the leased key keeps its lease');

    // A snapshot of the restored member: etcdctl and our reader read it alike, and HashKV matches.
    const snap2 = join(dir, 'after-restore.db');
    etcdctl(m, ['snapshot', 'save', snap2]);
    const status2 = etcdctlStatus(snap2, 'json');
    assert.equal(JSON.parse(status2).revision, bumped + 1);
    const s2 = openSnapshot(snap2);
    try {
      assert.equal(formatStatus(s2.status(), 'json'), status2);
      assert.equal(s2.compactedRevision(), BigInt(bumped), 'etcd finished the scheduled compaction');
    } finally {
      s2.close();
    }
    assert.deepEqual(ourHashKV(snap2, bumped + 1), liveHashKV(m, bumped + 1));
    assert.match(liveHashKV(m, bumped).error ?? '', /compacted/);
    assert.match(ourHashKV(snap2, bumped).error ?? '', /compacted/);
  });

  it('refuses a non-empty data dir and etcd-invalid flag combinations, with one-line errors', () => {
    const dataDir = join(dir, 'restored');
    const before = readdirSync(join(dataDir, 'member')).sort();
    const cases: Array<[string[], RegExp]> = [
      [['--data-dir', dataDir, '--bump-revision', '5', '--mark-compacted'], /data dir .*restored is not empty \(member\): restore needs an empty or missing data dir; move its contents aside first/],
      [['--data-dir', join(dir, 'x1'), '--bump-revision', '5'], /--bump-revision 5 needs --mark-compacted/],
      [['--data-dir', join(dir, 'x2'), '--mark-compacted'], /--mark-compacted needs --bump-revision N with N > 0/],
      [['--data-dir', join(dir, 'x3'), '--bump-revision', '0', '--mark-compacted'], /--mark-compacted needs --bump-revision N with N > 0/],
    ];
    for (const [args, msg] of cases) {
      const r = etcdOps(['snapshot', 'restore', snap, ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    // A raw db (no sha256 trailer) needs --skip-hash-check, as with etcdctl.
    const raw = join(dir, 'plain', 'member', 'snap', 'db');
    const r = etcdOps(['snapshot', 'restore', raw, '--data-dir', join(dir, 'x4'), '--bump-revision', '5', '--mark-compacted']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /snapshot missing hash .*add --skip-hash-check/);
    // ETCDCTL_BIN picks the etcdctl to run.
    const bad = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'etcd-ops.js'), 'snapshot', 'restore', snap, '--data-dir', join(dir, 'x5')], { encoding: 'utf8', env: { ...process.env, ETCDCTL_BIN: '/nonexistent/etcdctl' } });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ETCDCTL_BIN=\/nonexistent\/etcdctl is not an executable/);
    assert.deepEqual(readdirSync(join(dataDir, 'member')).sort(), before);
    assert.deepEqual(readdirSync(dir).filter((n) => /^(x\d|\.x\d)/.test(n)), [], 'nothing created for refused restores');
  });

  it('restores into an existing empty data dir, and without a bump leaves etcdctl\'s db as it is', () => {
    const dataDir = join(dir, 'empty-dir');
    mkdirSync(dataDir);
    const r = etcdOps(['snapshot', 'restore', snap, '--data-dir', dataDir, '-w', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { dataDir });
    assert.deepEqual(readdirSync(dataDir), ['member']);
    assert.deepEqual(contents(join(dataDir, 'member', 'snap', 'db')), contents(join(dir, 'plain', 'member', 'snap', 'db')));
  });
});
