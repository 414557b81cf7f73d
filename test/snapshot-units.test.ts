import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '@node-rs/crc32';
import { fnv1a64 } from '../src/snapshot/fnv.js';
import { humanizeBytes } from '../src/etcd/humanize.js';
import { decodeKeyValue, peekKey } from '../src/snapshot/protobuf.js';
import { parseRevisionKey, revisionKey } from '../src/snapshot/revision.js';
import { formatStatus, JsonGetWriter, simpleKv } from '../src/cli/printers/snapshot.js';
import { SnapshotError, openSnapshotBytes } from '../src/snapshot/index.js';
import { BoltBuilder, bucketValue, etcdRoot, inlineBucket, kvProto, revKey, varint } from './helpers/snapshots.js';

describe('snapshot pure pieces', { timeout: 20_000 }, () => {
  it('FNV-1a 64 matches Go hash/fnv', () => {
    assert.equal(fnv1a64(Buffer.from('')), 0xcbf29ce484222325n);
    assert.equal(fnv1a64(Buffer.from('a')), 0xaf63dc4c8601ec8cn);
    assert.equal(fnv1a64(Buffer.from('foobar')), 0x85944171f73967e8n);
    // Against a bigint reference on bytes that exercise every carry.
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
    let h = 0xcbf29ce484222325n;
    for (const b of data) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
    assert.equal(fnv1a64(data), h);
  });

  it('humanizes sizes as go-humanize Bytes (etcdctl)', () => {
    const cases: Array<[number, string]> = [
      [0, '0 B'], [9, '9 B'], [10, '10 B'], [999, '999 B'], [1000, '1.0 kB'], [1049, '1.0 kB'], [1050, '1.1 kB'],
      [9949, '9.9 kB'], [9950, '10 kB'], [20480, '20 kB'], // 20.5 -> half to even
      [24500, '24 kB'], [25500, '26 kB'], [21500, '22 kB'], [24499, '24 kB'], [24549, '24 kB'], [24550, '25 kB'], // 24.549 -> 24.5 first, then half to even
      [999_999, '1000 kB'], [1_000_000, '1.0 MB'], [658_382_848, '658 MB'], [2_147_483_648, '2.1 GB'],
      [5_500_000_000_000, '5.5 TB'],
    ];
    for (const [n, want] of cases) assert.equal(humanizeBytes(n), want, `humanizeBytes(${n})`);
    assert.equal(humanizeBytes(20480n), '20 kB');
  });

  it('decodes mvccpb.KeyValue, including 64-bit leases and unknown fields', () => {
    const kv = decodeKeyValue(kvProto({ key: '/a/b', create: 5, mod: 9, version: 3, value: 'hello', lease: 0x7fffffffffffffffn }));
    assert.equal(kv.key.toString(), '/a/b');
    assert.equal(kv.createRevision, 5n);
    assert.equal(kv.modRevision, 9n);
    assert.equal(kv.version, 3n);
    assert.equal(kv.value.toString(), 'hello');
    assert.equal(kv.lease, 0x7fffffffffffffffn);
    // Negative int64 (10-byte varint) and fields this reader does not know, of every wire type.
    const extra = Buffer.concat([
      kvProto({ key: 'k', lease: -2 }),
      varint((7 << 3) | 0), varint(123456789012345n),
      varint((8 << 3) | 1), Buffer.alloc(8, 9),
      varint((9 << 3) | 2), varint(3), Buffer.from('xyz'),
      varint((10 << 3) | 5), Buffer.alloc(4, 1),
    ]);
    const k2 = decodeKeyValue(extra);
    assert.equal(k2.lease, -2n);
    assert.equal(k2.key.toString(), 'k');
    assert.equal(peekKey(extra).toString(), 'k');
    // A revision bump writes an empty value: all zeros.
    const empty = decodeKeyValue(Buffer.alloc(0));
    assert.equal(empty.key.length + empty.value.length, 0);
    assert.equal(empty.modRevision, 0n);
    // Decoded buffers are copies, not views of the page.
    const src = kvProto({ key: 'zz', value: 'vv' });
    const k3 = decodeKeyValue(src);
    src.fill(0);
    assert.equal(k3.key.toString() + k3.value.toString(), 'zzvv');
  });

  it('rejects malformed protobuf with SnapshotError, never RangeError', () => {
    const bad: Array<[string, Buffer]> = [
      ['truncated varint', Buffer.from([0x10, 0x80])],
      ['length past end', Buffer.from([0x0a, 0x05, 0x61])],
      ['huge length', Buffer.concat([Buffer.from([0x0a]), varint(2n ** 62n)])],
      ['group wire type', Buffer.from([0x0b])],
      ['field 0', Buffer.from([0x00, 0x01])],
      ['wrong wire type for key', Buffer.from([0x08, 0x01])],
      ['wrong wire type for lease', Buffer.from([0x32, 0x00])],
      ['11-byte varint', Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ['varint overflow', Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])],
      ['fixed64 past end', Buffer.from([0x39, 1, 2, 3])],
    ];
    for (const [what, b] of bad) {
      assert.throws(() => decodeKeyValue(b, 'test'), (e: unknown) => e instanceof SnapshotError && /bad protobuf/.test(e.message), what);
    }
  });

  it('parses revision keys and tombstones', () => {
    assert.deepEqual(parseRevisionKey(revKey(7, 2)), { main: 7n, sub: 2n, tombstone: false });
    assert.deepEqual(parseRevisionKey(revKey(2n ** 40n, 0, true)), { main: 2n ** 40n, sub: 0n, tombstone: true });
    assert.deepEqual(revisionKey({ main: 7n, sub: 2n }), revKey(7, 2));
    assert.deepEqual(revisionKey({ main: 9n, sub: 0n }, true), revKey(9, 0, true));
    assert.match(parseRevisionKey(Buffer.alloc(16)) as string, /16 bytes/);
    const sep = revKey(1);
    sep[8] = 0x2d;
    assert.match(parseRevisionKey(sep) as string, /byte 8/);
    const mark = revKey(1, 0, true);
    mark[17] = 0x78;
    assert.match(parseRevisionKey(mark) as string, /mark/);
  });

  it('formats status like etcdctl in all three formats', () => {
    const s = { hash: 0x0c044936, revision: 4n, totalKey: 7, totalSize: 20480 };
    assert.equal(formatStatus(s, 'simple'), 'c044936, 4, 7, 20 kB\n');
    assert.equal(formatStatus(s, 'json'), '{"hash":201607478,"revision":4,"totalKey":7,"totalSize":20480}\n');
    assert.equal(
      formatStatus(s, 'table'),
      [
        '+---------+----------+------------+------------+',
        '|  HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |',
        '+---------+----------+------------+------------+',
        '| c044936 |        4 |          7 |      20 kB |',
        '+---------+----------+------------+------------+',
        '',
      ].join('\n'),
    );
  });

  it('prints get output like etcdctl (simple and json, omitempty)', () => {
    const kv = { key: Buffer.from('b'), createRevision: 3n, modRevision: 3n, version: 1n, value: Buffer.from('2'), lease: 0n };
    assert.equal(simpleKv(kv).toString(), 'b\n2\n');
    let out = '';
    const w = new JsonGetWriter((s) => (out += s), 4n);
    w.kv(kv);
    w.kv({ ...kv, value: Buffer.alloc(0), lease: 2n ** 63n - 1n });
    w.end();
    assert.equal(
      out,
      '{"header":{"revision":4},"kvs":[{"key":"Yg==","create_revision":3,"mod_revision":3,"version":1,"value":"Mg=="},' +
        '{"key":"Yg==","create_revision":3,"mod_revision":3,"version":1,"lease":9223372036854775807}],"count":2}\n',
    );
    out = '';
    new JsonGetWriter((s) => (out += s), 4n).end();
    assert.equal(out, '{"header":{"revision":4}}\n');
  });

  it('computes the etcdctl hash on a crafted multi-level tree with inline and nested buckets', () => {
    // key bucket: branch page 5 -> leaves 3, 4 (the second with an overflow page);
    // meta: inline bucket; "nest": a bucket holding a nested bucket on page 7.
    const b = new BoltBuilder(4096);
    const big = Buffer.alloc(6000, 0x41);
    const recs: Array<[Buffer, Buffer]> = [
      [revKey(2), kvProto({ key: '/a', create: 2, mod: 2, version: 1, value: 'x' })],
      [revKey(3), kvProto({ key: '/b', create: 3, mod: 3, version: 1, value: big })],
      [revKey(4, 0, true), kvProto({ key: '/a' })],
    ];
    b.leaf(3, [{ key: recs[0][0], value: recs[0][1] }]);
    b.leaf(4, [{ key: recs[1][0], value: recs[1][1] }, { key: recs[2][0], value: recs[2][1] }]);
    assert.equal(b.pages.get(4)!.length, 8192); // page 4 + overflow page 5... so the branch goes to 6
    b.branch(6, [{ key: recs[0][0], pgid: 3 }, { key: recs[1][0], pgid: 4 }]);
    b.leaf(7, [{ key: 'deep', value: 'v' }]);
    b.leaf(2, [
      { key: 'key', value: bucketValue(6), bucket: true },
      { key: 'meta', value: inlineBucket([{ key: 'consistent_index', value: Buffer.alloc(8, 1) }]), bucket: true },
      { key: 'nest', value: inlineBucket([{ key: 'child', value: bucketValue(7), bucket: true }, { key: 'plain', value: 'p' }]), bucket: true },
    ]);
    b.meta(0, { root: 2, pgid: 8, txid: 5 });
    b.meta(1, { root: 2, pgid: 8, txid: 4 });
    const db = b.build(8, { trailer: true });

    let crc = 0;
    crc = crc32c(Buffer.from('key'), crc);
    for (const [k, v] of recs) crc = crc32c(v, crc32c(k, crc));
    crc = crc32c(Buffer.from('meta'), crc);
    crc = crc32c(Buffer.alloc(8, 1), crc32c(Buffer.from('consistent_index'), crc));
    crc = crc32c(Buffer.from('nest'), crc);
    crc = crc32c(Buffer.from('child'), crc); // nested bucket: key only
    crc = crc32c(Buffer.from('p'), crc32c(Buffer.from('plain'), crc));

    const snap = openSnapshotBytes(db);
    assert.equal(snap.trailer.present, true);
    assert.deepEqual(snap.verifyTrailer(), { status: 'ok', sha256: db.subarray(-32).toString('hex') });
    assert.deepEqual(snap.status(), { hash: crc >>> 0, revision: 4n, totalKey: 6, totalSize: 8 * 4096 });
    assert.deepEqual(snap.bucketNames().map(String), ['key', 'meta', 'nest']);
    assert.deepEqual([...snap.entries(['nest', 'child'])].map((e) => [String(e.key), String(e.value)]), [['deep', 'v']]);
    assert.deepEqual([...snap.entries('nest')].map((e) => [String(e.key), e.value === null ? null : String(e.value)]), [['child', null], ['plain', 'p']]);
    const revs = [...snap.revisions()];
    assert.deepEqual(revs.map((r) => [r.revision.main, r.tombstone, String(r.kv.key)]), [[2n, false, '/a'], [3n, false, '/b'], [4n, true, '/a']]);
    // Head: /a is deleted, /b has the big value (fetched by lookup through the branch page).
    const head = [...snap.latest().values()];
    assert.deepEqual(head.map((kv) => [String(kv.key), kv.value.length]), [['/b', 6000]]);
    assert.deepEqual([...snap.latest({ rev: 2n }).values()].map((kv) => String(kv.value)), ['x']);
    assert.deepEqual([...snap.latest({ prefix: Buffer.from('/a'), rev: 3n }).values()].map((kv) => String(kv.key)), ['/a']);
    assert.deepEqual([...snap.latest({ key: Buffer.from('/zz') }).values()], []);
    assert.throws(() => snap.latest({ rev: 99n }), /future revision/);
    assert.equal(snap.headRevision(), 4n);
    snap.close();
  });

  it('accepts a persisted freelist and finds pages that are neither used nor free', () => {
    const build = (free: number[]) => {
      const b = new BoltBuilder(4096);
      b.leaf(4, [{ key: revKey(2), value: kvProto({ key: 'k', create: 2, mod: 2, version: 1, value: 'v' }) }]);
      etcdRoot(b, 4);
      b.freelist(3, free);
      b.meta(0, { root: 2, pgid: 7, txid: 3, freelist: 3 });
      b.meta(1, { root: 2, pgid: 7, txid: 2, freelist: 3 });
      return b.build(7);
    };
    const ok = openSnapshotBytes(build([5, 6]));
    assert.equal(ok.status().totalKey, 2);
    assert.equal(ok.trailer.present, false);
    assert.deepEqual(ok.verifyTrailer(), { status: 'absent' });
    assert.throws(() => openSnapshotBytes(build([5])).status(), (e: unknown) => e instanceof SnapshotError && /page 6 .*unreachable unfreed/.test(e.message));
    assert.throws(() => openSnapshotBytes(build([5, 6, 4])).status(), (e: unknown) => e instanceof SnapshotError && /page 4 .*also listed as free/.test(e.message));
    assert.throws(() => openSnapshotBytes(build([5, 6, 6])).status(), /lists page 6 twice/);
    assert.throws(() => openSnapshotBytes(build([5, 6, 70])).status(), /free page 70, outside/);
  });
});
