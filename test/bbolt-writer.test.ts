import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { BoltWriter, MemorySink, type BucketSource, type SourceEntry } from '../src/bbolt/writer.js';
import { patchBucket } from '../src/bbolt/patch.js';
import { DbTree, type TreeBucket } from '../src/snapshot/tree.js';
import { BufferSource } from '../src/snapshot/source.js';
import { findBucket } from '../src/snapshot/kv.js';
import { lookup } from '../src/snapshot/walk.js';
import { openSnapshotBytes } from '../src/snapshot/index.js';
import { formatStatus } from '../src/cli/printers/snapshot.js';
import { decodeMeta } from '../src/snapshot/meta.js';
import { bumpFromFlags, revisionBump } from '../src/restore/bump.js';
import { hashKV, HashKVError } from '../src/snapshot/hashkv.js';
import { bins } from './helpers/etcd.js';
import { kvProto, revKey } from './helpers/snapshots.js';
import { tempDir } from './helpers/cleanup.js';

/** A database as plain data: what goes into the writer and what must come back out. */
interface Model {
  seq: bigint;
  items: Array<{ key: Buffer; value?: Buffer; bucket?: Model }>;
}

function source(m: Model): BucketSource {
  return {
    sequence: m.seq,
    *entries(): Generator<SourceEntry> {
      for (const it of m.items) yield it.bucket ? { key: it.key, bucket: source(it.bucket) } : { key: it.key, value: it.value! };
    },
  };
}

function model(b: TreeBucket | BucketSource): Model {
  const items: Model['items'] = [];
  for (const e of b.entries()) items.push(e.bucket ? { key: Buffer.from(e.key), bucket: model(e.bucket) } : { key: Buffer.from(e.key), value: Buffer.from(e.value!) });
  return { seq: b.sequence, items };
}

function write(m: Model | BucketSource, opts: { txid?: bigint } = {}): Buffer {
  const sink = new MemorySink(4096);
  new BoltWriter(sink, opts).write('items' in m ? source(m) : m);
  return sink.bytes();
}

function readBack(bytes: Buffer): Model {
  const tree = new DbTree(new BufferSource(bytes));
  try {
    return model(tree.root());
  } finally {
    tree.close();
  }
}

const b = (s: string) => Buffer.from(s);
const bucket = (name: string, items: Model['items'], seq = 0n) => ({ key: b(name), bucket: { seq, items } });
const sorted = (items: Model['items']) => items.sort((x, y) => Buffer.compare(x.key, y.key));

/** `etcdctl snapshot status` (Go bbolt: tx.Check, then a walk of every bucket) on bytes. */
function etcdctlStatus(bytes: Buffer): string {
  const file = join(tempDir('etcd-ops-bbolt-'), 'db');
  writeFileSync(file, bytes);
  const r = spawnSync(bins.etcdctl, ['snapshot', 'status', '-w', 'json', file], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  assert.equal(r.status, 0, `etcdctl snapshot status failed: ${r.stderr}`);
  return r.stdout;
}

describe('bbolt writer', { timeout: 60_000 }, () => {
  it('round-trips deep trees, overflow values, nested, inline and empty buckets, and sequences; Go bbolt checks the file', () => {
    // Long keys make few elements per page, so a few thousand keys give a tree of several levels.
    const deep = Array.from({ length: 3000 }, (_, i) => ({ key: b(`k-${String(i).padStart(6, '0')}-${'x'.repeat(390)}`), value: b(`v${i}`) }));
    const big = sorted([
      ...[0, 1, 2].map((i) => ({ key: b(`big-${i}`), value: Buffer.alloc(100 * 1024, 65 + i) })),
      { key: b('huge'), value: Buffer.alloc(1024 * 1024 + 5, 7) },
      ...Array.from({ length: 20 }, (_, i) => ({ key: b(`small-${i}`), value: b(`s${i}`) })),
      { key: b('empty-value'), value: Buffer.alloc(0) },
    ]);
    const keyBucket = Array.from({ length: 500 }, (_, i) => ({ key: revKey(i + 2), value: kvProto({ key: `/k/${i}`, create: i + 2, mod: i + 2, version: 1, value: `value-${i}` }) }));
    const m: Model = {
      seq: 7n,
      items: sorted([
        bucket('big', big),
        bucket('deep', deep, 3n),
        bucket('empty', []),
        bucket('key', keyBucket),
        bucket('nest', sorted([
          bucket('inline-small', [{ key: b('a'), value: b('1') }, { key: b('b'), value: b('2') }], 11n),
          bucket('empty', [], 12n),
          bucket('large', Array.from({ length: 200 }, (_, i) => ({ key: b(`l${String(i).padStart(4, '0')}`), value: Buffer.alloc(40, i) })), 13n),
          bucket('deeper', [bucket('leaf', [bucket('leafier', [{ key: b('x'), value: b('y') }], 99n)])], 14n),
          { key: b('plain'), value: b('value next to buckets') },
        ])),
      ]),
    };
    const bytes = write(m, { txid: 42n });
    assert.deepEqual(readBack(bytes), m);

    // Point lookups descend branch pages by their keys (walks only follow child ids).
    const tree = new DbTree(new BufferSource(bytes));
    try {
      for (const [name, items] of [['deep', deep], ['big', big], ['key', keyBucket]] as const) {
        const ref = findBucket(tree.pager, [name])!;
        items.forEach((it, i) => {
          if (i % 7 === 0 || i === items.length - 1) assert.deepEqual(lookup(tree.pager, ref, it.key, name), it.value, `${name}: lookup of key ${i}`);
        });
        assert.equal(lookup(tree.pager, ref, b('zzz-not-there'), name), undefined);
      }
    } finally {
      tree.close();
    }

    const snap = openSnapshotBytes(bytes, 'written');
    try {
      assert.equal([...snap.latest({ prefix: b('/k/') }).values()].length, 500);
      const deepStats = snap.bucketStats('deep');
      assert.ok(deepStats.depth >= 3, `deep bucket has ${deepStats.depth} levels`);
      assert.ok(deepStats.branchPages > 1);
      assert.ok(snap.bucketStats('big').overflowPages >= 4 * 25, 'large values sit on overflow pages');
      assert.equal(snap.bucketStats('empty').inline, true);
      assert.equal(snap.bucketStats(['nest', 'inline-small']).inline, true);
      assert.equal(snap.bucketStats(['nest', 'large']).inline, false, 'a bucket over pageSize/4 gets its own pages');
      assert.equal(snap.bucketStats('nest').inline, false, 'a bucket holding buckets is never inline');
      assert.equal(snap.bucketStats(['nest', 'deeper', 'leaf']).inline, false);
      assert.equal(snap.bucketStats(['nest', 'deeper', 'leaf', 'leafier']).inline, true);
      // Our walk checks every page is reachable exactly once (a compact file has no free pages).
      const status = snap.status();
      assert.equal(status.revision, 501n);
      assert.equal(status.totalSize, bytes.length);
      assert.equal(etcdctlStatus(bytes).trim(), formatStatus(status, 'json').trim());
      assert.equal(snap.meta.txid, 42n);
      assert.equal(snap.meta.index, 0);
    } finally {
      snap.close();
    }
    // The other meta is valid too, one txid behind, pointing at the same tree.
    const m0 = decodeMeta(bytes, 0, 0);
    const m1 = decodeMeta(bytes, 4096, 1);
    assert.ok(typeof m0 !== 'string' && typeof m1 !== 'string', `${m0} ${m1}`);
    assert.equal(m1.txid, 41n);
    assert.deepEqual({ ...m1, index: 0, txid: 0n, checksum: 0n }, { ...m0, txid: 0n, checksum: 0n });
  });

  it('writes an empty database that Go bbolt accepts', () => {
    const bytes = write({ seq: 0n, items: [] });
    assert.equal(bytes.length, 4 * 4096, 'metas, an empty root leaf, an empty freelist');
    assert.equal(bytes.readUInt16LE(3 * 4096 + 8), 0x10);
    assert.equal(bytes.readUInt16LE(3 * 4096 + 10), 0);
    assert.deepEqual(readBack(bytes), { seq: 0n, items: [] });
    assert.match(etcdctlStatus(bytes), /"totalKey":0/);
  });

  it('refuses keys out of order and empty keys', () => {
    assert.throws(() => write({ seq: 0n, items: [bucket('a', [{ key: b('2'), value: b('') }, { key: b('1'), value: b('') }])] }), /strictly increasing order/);
    assert.throws(() => write({ seq: 0n, items: [bucket('a', [{ key: b('1'), value: b('') }, { key: b('1'), value: b('') }])] }), /strictly increasing order/);
    assert.throws(() => write({ seq: 0n, items: [bucket('a', [{ key: Buffer.alloc(0), value: b('') }])] }), /empty key/);
  });

  it('merges patches into the stream: replaces, inserts anywhere, creates buckets', () => {
    const base: Model = { seq: 5n, items: [bucket('a', [{ key: b('2'), value: b('two') }, { key: b('4'), value: b('four') }], 9n), bucket('c', [])] };
    const patched = patchBucket(source(base), {
      buckets: [
        { name: b('a'), patch: { puts: [{ key: b('1'), value: b('one') }, { key: b('4'), value: b('FOUR') }, { key: b('3'), value: b('three') }, { key: b('9'), value: b('nine') }] } },
        { name: b('b'), patch: { puts: [{ key: b('x'), value: b('new bucket') }], buckets: [{ name: b('sub'), patch: {} }] } },
      ],
    });
    assert.deepEqual(readBack(write(patched)), {
      seq: 5n,
      items: [
        bucket('a', ['1:one', '2:two', '3:three', '4:FOUR', '9:nine'].map((s) => ({ key: b(s[0]), value: b(s.slice(2)) })), 9n),
        bucket('b', [bucket('sub', []), { key: b('x'), value: b('new bucket') }]),
        bucket('c', []),
      ],
    });
    assert.throws(() => model(patchBucket(source(base), { buckets: [{ name: b('a'), patch: { buckets: [{ name: b('2'), patch: {} }] } }] })), /is a key, not a bucket/);
    assert.throws(() => model(patchBucket(source(base), { puts: [{ key: b('a'), value: b('') }] })), /is a bucket, not a key/);
    assert.throws(() => patchBucket(source(base), { puts: [{ key: b('z'), value: b('') }, { key: b('z'), value: b('') }] }), /given twice/);
  });
});

describe('revision bump (etcd modifyLatestRevision)', () => {
  it('puts the placeholder key latest+N with an empty value and scheduledCompactRev = latest+N', () => {
    const bump = revisionBump(revKey(33, 2), 1000n);
    assert.deepEqual(bump.latest, { main: 33n, sub: 2n });
    assert.equal(bump.bumped, 1033n);
    const [keyPatch, metaPatch] = bump.patch.buckets!;
    assert.equal(keyPatch.name.toString(), 'key');
    // revToBytes(revision{main: 1033, sub: 0}): 8 bytes big-endian main, '_', 8 bytes big-endian sub.
    assert.equal(Buffer.from(keyPatch.patch.puts![0].key).toString('hex'), '0000000000000409' + '5f' + '0000000000000000');
    assert.equal(keyPatch.patch.puts![0].value.length, 0);
    assert.equal(metaPatch.name.toString(), 'meta');
    assert.equal(Buffer.from(metaPatch.patch.puts![0].key).toString(), 'scheduledCompactRev');
    assert.equal(Buffer.from(metaPatch.patch.puts![0].value).toString('hex'), '00000000000004095f0000000000000000');
    // A tombstone as the last key counts by its revision; an empty bucket starts from 0.
    assert.equal(revisionBump(revKey(40, 0, true), 10n).bumped, 50n);
    assert.equal(revisionBump(undefined, 1_000_000_000n).bumped, 1_000_000_000n);
    assert.throws(() => revisionBump(b('short'), 5n), /not an etcd revision/);
    assert.throws(() => revisionBump(revKey(10), (1n << 63n) - 5n), /past the largest etcd revision/);
  });

  it('follows etcdutl flag rules: --mark-compacted required when N > 0, refused when N = 0', () => {
    assert.equal(bumpFromFlags(undefined, undefined), 0n);
    assert.equal(bumpFromFlags('0', undefined), 0n);
    assert.equal(bumpFromFlags('1000000000', true), 1_000_000_000n);
    assert.throws(() => bumpFromFlags('5', false), /needs --mark-compacted/);
    assert.throws(() => bumpFromFlags('0', true), /--mark-compacted needs --bump-revision N with N > 0/);
    assert.throws(() => bumpFromFlags(undefined, true), /--mark-compacted needs --bump-revision/);
    assert.throws(() => bumpFromFlags('-3', true), /want a whole number/);
    assert.throws(() => bumpFromFlags('1e9', true), /want a whole number/);
  });
});

describe('HashKV (mvcc HashByRev) on given entries', () => {
  // a@2 a@3 b@4 b@5(deleted) c@6, compacted at 3 but not yet physically (a@2 still there).
  const entries = [
    { key: revKey(2), value: kvProto({ key: 'a', create: 2, mod: 2, version: 1, value: '1' }) },
    { key: revKey(3), value: kvProto({ key: 'a', create: 2, mod: 3, version: 2, value: '2' }) },
    { key: revKey(4), value: kvProto({ key: 'b', create: 4, mod: 4, version: 1, value: '3' }) },
    { key: revKey(5, 0, true), value: kvProto({ key: 'b' }) },
    { key: revKey(6), value: kvProto({ key: 'c', create: 6, mod: 6, version: 1, value: '4' }) },
  ];
  const crcOf = (idx: number[]) => idx.reduce((crc, i) => crc32c(entries[i].value, crc32c(entries[i].key, crc)), crc32c(b('key'), 0)) >>> 0;
  const input = { scan: () => entries, compactRev: 3n, currentRev: 6n };

  it('hashes what a compaction at the compact revision keeps, up to rev', () => {
    assert.equal(hashKV(input, 6n).hash, crcOf([1, 2, 3, 4]), 'a@2 is below the compaction and not the newest a');
    assert.equal(hashKV(input, 0n).hash, crcOf([1, 2, 3, 4]), '0 means the current revision');
    assert.equal(hashKV(input, 0n).hashRevision, 6n);
    assert.equal(hashKV(input, 4n).hash, crcOf([1, 2]));
    // Never compacted (-1): everything up to rev counts.
    assert.equal(hashKV({ ...input, compactRev: -1n }, 2n).hash, crcOf([0]));
    // Nothing alive at rev: keep is empty, so nothing is skipped.
    const dead = [entries[2], entries[3]];
    assert.equal(hashKV({ scan: () => dead, compactRev: 4n, currentRev: 5n }, 5n).hash, crcOf([2, 3]));
  });

  it('answers as etcd for compacted and future revisions', () => {
    assert.throws(() => hashKV(input, 3n), (err: unknown) => err instanceof HashKVError && err.reason === 'compacted' && /required revision has been compacted/.test(err.message));
    assert.throws(() => hashKV(input, 7n), (err: unknown) => err instanceof HashKVError && err.reason === 'future');
  });
});
