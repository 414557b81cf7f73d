import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, etcdctl } from './helpers/etcd.js';
import { BoltBuilder, bucketValue, etcdOps, etcdRoot, inlineBucket, kvProto, resumMeta, revKey, txnPuts, withTrailer } from './helpers/snapshots.js';
import { SnapshotError, openSnapshotBytes, snapshotStatus, type OpenOptions, type SnapshotStatus } from '../src/snapshot/index.js';
import { tempDir } from './helpers/cleanup.js';

/** Runs everything the reader offers on `bytes`; returns the status, or the SnapshotError. */
function exercise(bytes: Uint8Array, opts?: OpenOptions): SnapshotStatus | SnapshotError {
  try {
    const snap = openSnapshotBytes(bytes, 'input', opts);
    try {
      const st = snap.status();
      for (const _ of snap.revisions());
      for (const _ of snap.latest().values());
      return st;
    } finally {
      snap.close();
    }
  } catch (err) {
    if (err instanceof SnapshotError) return err;
    throw err;
  }
}

function expectError(bytes: Uint8Array, pattern: RegExp, opts?: OpenOptions): SnapshotError {
  const r = exercise(bytes, opts);
  assert.ok(r instanceof SnapshotError, `expected a SnapshotError matching ${pattern}, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  assert.match(r.message, pattern);
  assert.doesNotMatch(r.message, /\n/);
  return r;
}

/** A small etcd-shaped database with a two-level `key` tree; `tweak` breaks it. */
function crafted(tweak: (b: BoltBuilder) => void = () => {}, pgid = 8): Buffer {
  const b = new BoltBuilder(4096);
  b.leaf(3, [{ key: revKey(2), value: kvProto({ key: '/a', create: 2, mod: 2, version: 1, value: '1' }) }]);
  b.leaf(4, [{ key: revKey(3), value: kvProto({ key: '/b', create: 3, mod: 3, version: 1, value: '2' }) }]);
  b.branch(5, [{ key: revKey(2), pgid: 3 }, { key: revKey(3), pgid: 4 }]);
  etcdRoot(b, 5);
  b.meta(0, { root: 2, pgid, txid: 3 });
  b.meta(1, { root: 2, pgid, txid: 2 });
  tweak(b);
  return b.build(pgid);
}

describe('damaged and hostile snapshots', { timeout: 90_000 }, () => {
  let dir: string;
  let real: Buffer; // a real snapshot, trailer included
  let realDb: Buffer; // its database bytes
  let realStatus: SnapshotStatus;

  before(async () => {
    dir = tempDir('etcd-ops-snapdmg-');
    const member = await startEtcd({ dataDir: join(dir, 'data') });
    try {
      etcdctl(member, ['txn'], txnPuts(Array.from({ length: 120 }, (_, i) => [`/registry/configmaps/ns/cm-${String(i).padStart(4, '0')}`, `data-${i}`])));
      etcdctl(member, ['put', '/big', 'B'.repeat(9000)]);
      etcdctl(member, ['del', '--prefix', '/registry/configmaps/ns/cm-00']);
      const lease = /lease ([0-9a-f]+) granted/.exec(etcdctl(member, ['lease', 'grant', '600']))![1];
      etcdctl(member, ['put', '--lease', lease, '/leased', 'x']);
      etcdctl(member, ['snapshot', 'save', join(dir, 'real.db')]);
    } finally {
      await member.stop();
    }
    real = readFileSync(join(dir, 'real.db'));
    realDb = real.subarray(0, real.length - 32);
    const st = exercise(real);
    assert.ok(!(st instanceof SnapshotError), String(st));
    realStatus = st;
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has a usable real snapshot with branch and overflow pages', () => {
    const snap = openSnapshotBytes(real);
    const st = snap.bucketStats('key');
    assert.ok(st.branchPages >= 1 && st.overflowPages >= 2, JSON.stringify(st));
  });

  it('reports a flipped bit under the trailer as a sha256 mismatch (API and CLI)', async () => {
    const bad = Buffer.from(real);
    bad[bad.length - 32 - 4096 + 100] ^= 0x10;
    const file = join(dir, 'flipped.db');
    writeFileSync(file, bad);
    await assert.rejects(snapshotStatus(file), (e: unknown) => e instanceof SnapshotError && e.code === 'trailer' && /sha256 mismatch/.test(e.message));
    const r = etcdOps(['snapshot', 'status', file]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^etcd-ops: .*flipped\.db: sha256 mismatch: the snapshot's trailer says [0-9a-f]{64} but its \d+ database bytes hash to [0-9a-f]{64}: the file was damaged or modified after it was saved\n$/);
    // The trailer itself damaged: same verdict.
    const badTrailer = Buffer.from(real);
    badTrailer[badTrailer.length - 1] ^= 1;
    writeFileSync(file, badTrailer);
    await assert.rejects(snapshotStatus(file), /sha256 mismatch/);
    // Skipping the check reads the tree as etcdctl would.
    const skipped = await snapshotStatus(file, { verifyHash: false });
    assert.deepEqual(skipped.status, realStatus);
  });

  it('falls back to meta page 1 when meta 0 is damaged, and fails when both are', () => {
    const m0 = Buffer.from(realDb);
    m0[16 + 20] ^= 0x01; // a bit of meta 0's root page id: the checksum no longer matches
    const snap = openSnapshotBytes(m0);
    assert.equal(snap.meta.index, 1);
    assert.deepEqual(snap.status(), realStatus); // etcdctl snapshot save writes both metas alike
    const both = Buffer.from(m0);
    both[4096 + 16 + 20] ^= 0x01;
    const e = expectError(both, /no valid bbolt meta page \(meta 0: checksum mismatch .*; meta 1: checksum mismatch/);
    assert.equal(e.code, 'meta');
    const magic = Buffer.from(realDb);
    magic.writeUInt32LE(0xdeadbeef, 16);
    magic.writeUInt32LE(0xdeadbeef, 4096 + 16);
    expectError(magic, /meta 0: bad magic 0xdeadbeef/);
    const version = Buffer.from(realDb);
    version.writeUInt32LE(1, 16 + 4);
    version.writeUInt32LE(1, 4096 + 16 + 4);
    expectError(version, /unsupported bbolt version 1/);
    const bigEndian = Buffer.from(realDb);
    bigEndian.writeUInt32BE(0xed0cdaed, 16);
    bigEndian.writeUInt32BE(0xed0cdaed, 4096 + 16);
    expectError(bigEndian, /big-endian/);
  });

  it('rejects truncated files, empty files, random bytes and a lone meta page', () => {
    const pgidBytes = realStatus.totalSize;
    for (const cut of [0, 1, 100, 1000, 4096, 8192, 8192 + 100, Math.floor(pgidBytes / 2), pgidBytes - 4096, pgidBytes - 1]) {
      const e = expectError(real.subarray(0, cut), /too small|truncated|no valid bbolt meta page/);
      assert.ok(['too-small', 'meta'].includes(e.code), `${cut}: ${e.code}`);
    }
    // Cutting only into the trailer leaves the database whole (and no trailer, as etcd sees it).
    const noTrailer = exercise(real.subarray(0, real.length - 1));
    assert.deepEqual(noTrailer, realStatus);
    expectError(Buffer.alloc(0), /0 bytes is too small/);
    let seed = 7;
    const rnd = Buffer.from(Array.from({ length: 65536 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff));
    expectError(rnd, /no valid bbolt meta page/);
    expectError(realDb.subarray(0, 4096), /truncated: meta page 0 says the database has \d+ pages/);
  });

  it('rejects page ids out of range, including ones beyond 2^53', () => {
    expectError(crafted((b) => b.branch(5, [{ key: revKey(2), pgid: 3 }, { key: revKey(3), pgid: 99 }])), /branch page 5 .* points to page 99, outside the database \(pages 2\.\.7\)/);
    expectError(crafted((b) => b.branch(5, [{ key: revKey(2), pgid: 3 }, { key: revKey(3), pgid: 2 ** 60 }])), /points to page >= 2\^53/);
    expectError(crafted((b) => b.branch(5, [{ key: revKey(2), pgid: 1 }])), /points to page 1, outside/);
    expectError(crafted((b) => etcdRoot(b, 77)), /bucket "key" points to page 77/);
    expectError(crafted((b) => { b.meta(0, { root: 9, pgid: 8, txid: 3 }); b.meta(1, { root: 9, pgid: 8, txid: 2 }); }), /root bucket page 9 is outside pages 2\.\.7/);
    expectError(crafted((b) => { b.meta(0, { root: 2, pgid: 9, txid: 3 }); b.meta(1, { root: 2, pgid: 9, txid: 2 }); }), /truncated: meta page 0 says the database has 9 pages/);
    // An overflow count that runs past the high-water mark.
    expectError(crafted((b) => b.pages.get(4)!.writeUInt32LE(50, 12)), /page 4 .*overflow of 50 pages runs past the high-water mark 8/);
    expectError(crafted((b) => b.pages.get(4)!.writeUInt32LE(0xffffffff, 12)), /overflow of 4294967295 pages/);
  });

  it('stops cycles and shared pages', () => {
    expectError(crafted((b) => b.branch(5, [{ key: revKey(2), pgid: 5 }])), /page 5 .*reached twice while walking bucket "key": a cycle/);
    expectError(
      crafted((b) => {
        b.branch(5, [{ key: revKey(2), pgid: 6 }]);
        b.branch(6, [{ key: revKey(2), pgid: 5 }]);
      }),
      /reached twice/,
    );
    expectError(crafted((b) => b.branch(5, [{ key: revKey(2), pgid: 3 }, { key: revKey(3), pgid: 3 }])), /page 3 .*reached twice/);
    // Two buckets sharing one tree.
    expectError(
      crafted((b) =>
        b.leaf(2, [
          { key: 'key', value: bucketValue(5), bucket: true },
          { key: 'lease', value: bucketValue(5), bucket: true },
        ]),
      ),
      /reached twice while walking bucket "lease"/,
    );
  });

  it('bounds depth, wrong page types, bad headers and elements outside their page', () => {
    // A chain of branch pages deeper than the limit.
    const deep = crafted((b) => {
      b.branch(5, [{ key: revKey(2), pgid: 6 }]);
      b.branch(6, [{ key: revKey(2), pgid: 7 }]);
      b.branch(7, [{ key: revKey(2), pgid: 3 }]);
    });
    assert.ok(!(exercise(deep) instanceof SnapshotError));
    expectError(deep, /deeper than 3 levels/, { limits: { maxDepth: 3 } });
    expectError(crafted((b) => b.pages.get(3)!.writeUInt16LE(0x04, 8)), /page 3 .*type flags 0x4 where bucket "key" needs a branch or leaf page/);
    expectError(crafted((b) => b.pages.get(3)!.writeBigUInt64LE(9n, 0)), /page 3 .*header holds page id 9/);
    expectError(crafted((b) => b.pages.get(3)!.writeUInt16LE(300, 10)), /page 3 .*300 leaf elements do not fit/);
    expectError(crafted((b) => b.pages.get(3)!.writeUInt32LE(5000, 16 + 12)), /page 3 .*leaf element 0 has its key\/value outside the page/);
    expectError(crafted((b) => b.pages.get(5)!.writeUInt32LE(0xfffffff0, 16 + 4)), /page 5 .*branch element 0 has its key outside the page/);
    expectError(crafted((b) => b.pages.get(5)!.writeUInt16LE(0, 10)), /page 5 .*branch page with no elements/);
    expectError(crafted((b) => b.pages.get(5)!.writeUInt16LE(5000, 10)), /5000 branch elements do not fit/);
    expectError(crafted((b) => b.leaf(2, [{ key: 'key', value: 'short', bucket: true }])), /bucket value is 5 bytes/);
    expectError(crafted((b) => b.leaf(2, [{ key: 'key', value: 'not a bucket' }])), /top-level key "key" is not a bucket/);
    expectError(crafted((b) => b.leaf(2, [{ key: 'key', value: Buffer.concat([bucketValue(0), Buffer.alloc(4)]), bucket: true }])), /inline bucket is too short/);
    const inlineBranch = inlineBucket([{ key: 'x', value: 'y' }]);
    inlineBranch.writeUInt16LE(0x01, 16 + 8);
    expectError(crafted((b) => b.leaf(2, [{ key: 'key', value: inlineBranch, bucket: true }])), /inline bucket page has type flags 0x1/);
    const inlineOver = inlineBucket([{ key: 'x', value: 'y' }]);
    inlineOver.writeUInt32LE(1000, 16 + 16 + 12);
    expectError(crafted((b) => b.leaf(2, [{ key: 'key', value: inlineOver, bucket: true }])), /inline bucket "key": leaf element 0/);
    // A value larger than the span limit (bounded allocation).
    expectError(crafted((b) => b.pages.get(4)!.writeUInt32LE(2, 12)), /spans 3 pages \(12288 bytes\), more than the 8192-byte limit/, { limits: { maxSpanBytes: 8192 } });
  });

  it('rejects etcd data that is not etcd data', () => {
    expectError(crafted((b) => b.leaf(4, [{ key: 'short', value: 'x' }])), /last key of bucket "key" is 5 bytes/);
    const badProto = crafted((b) => b.leaf(4, [{ key: revKey(3), value: Buffer.from([0x0a, 0x7f]) }]));
    const st = exercise(badProto); // status hashes bytes and is fine; decoding is not
    assert.ok(st instanceof SnapshotError && /bucket "key" element 0: bad protobuf at byte 2: length 127 runs past the end/.test(st.message), String(st));
    expectError(crafted((b) => b.leaf(4, [{ key: revKey(1), value: kvProto({ key: '/b' }) }])), /revision keys out of order/);
    const sep = revKey(3);
    sep[8] = 0x2e;
    expectError(crafted((b) => b.leaf(4, [{ key: sep, value: kvProto({ key: '/b' }) }])), /revision key has 0x2e at byte 8/);
  });

  it('the CLI reports damage on one line and exits non-zero', () => {
    const file = join(dir, 'cycle.db');
    writeFileSync(file, withTrailer(crafted((b) => b.branch(5, [{ key: revKey(2), pgid: 5 }]))));
    const r = etcdOps(['snapshot', 'status', '-w', 'table', file]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^etcd-ops: .*cycle\.db: page 5 \(offset 20480\): reached twice while walking bucket "key": a cycle or a page shared between two parents\n$/);
    const missing = etcdOps(['snapshot', 'status', join(dir, 'nope.db')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^etcd-ops: .*nope\.db: cannot open: no such file\n$/);
  });

  it('survives random mutations of a real snapshot (fuzz)', () => {
    const seed0 = Date.now() >>> 0;
    let seed = seed0;
    const rand = (n: number) => {
      // xorshift32: reproducible from the printed seed
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed % n;
    };
    const deadline = Date.now() + 10_000;
    let runs = 0;
    let ok = 0;
    const codes = new Map<string, number>();
    // Most mutations land in pages; some in the metas (re-summed so they pass the checksum).
    while (Date.now() < deadline && runs < 3000) {
      runs++;
      let m: Buffer = Buffer.from(realDb);
      const kind = rand(6);
      const what: string[] = [];
      for (let i = 0, n = 1 + rand(4); i < n; i++) {
        if (kind === 0 || kind === 1) {
          const at = rand(m.length);
          m[at] ^= 1 << rand(8);
          what.push(`flip@${at}`);
        } else if (kind === 2) {
          const at = rand(m.length);
          const len = 1 + rand(64);
          const v = rand(4) === 0 ? 0xff : rand(256);
          m.fill(v, at, Math.min(m.length, at + len));
          what.push(`fill@${at}+${len}=${v}`);
        } else if (kind === 3) {
          // Page header fields: id, flags, count, overflow of a random page.
          const pg = 2 + rand(m.length / 4096 - 2);
          const at = pg * 4096 + rand(16);
          m[at] = rand(256);
          what.push(`hdr@${at}`);
        } else if (kind === 4) {
          // A meta field, checksum fixed: exercises the walk from strange roots and sizes.
          const at = 16 + 8 + rand(40);
          m[at] = rand(256);
          resumMeta(m, 0);
          what.push(`meta@${at}`);
        } else {
          const cut = rand(m.length);
          m = m.subarray(0, cut);
          what.push(`cut@${cut}`);
          break;
        }
      }
      let r: SnapshotStatus | SnapshotError;
      try {
        r = exercise(m, { limits: { maxSpanBytes: 1 << 20 } });
      } catch (err) {
        assert.fail(`seed ${seed0} run ${runs} (${what.join(' ')}): ${(err as Error)?.name}: ${(err as Error)?.message}\n${(err as Error)?.stack}`);
      }
      if (r instanceof SnapshotError) codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
      else ok++;
    }
    assert.ok(runs >= 500, `only ${runs} runs`);
    assert.ok(codes.size >= 4, `errors seen: ${JSON.stringify([...codes])}`);
    // Mutations in free pages or values change nothing structural: some runs succeed.
    assert.ok(ok > 0);
  });
});
