/**
 * What the drill compares etcd with, from the snapshot in one pass over its `key` bucket: etcd's
 * HashKV at a revision and the live keys with their mod revisions. snapshot/hashkv.ts needs two
 * passes in general (a compaction's keep set decides what the second one hashes); when no entry
 * at or below the compacted revision is left out by that set, which is the usual case, the one
 * pass already hashed exactly what the second would, and snapshotHashKV runs only otherwise.
 */
import { crc32c } from '@node-rs/crc32';
import { SnapshotError, decodeKeyValue, parseRevisionKey, type KeyValue, type Snapshot } from '../snapshot/index.js';
import { snapshotHashKV, storeRevisions, HashKVError } from '../snapshot/hashkv.js';
import { peekKey } from '../snapshot/protobuf.js';

export interface ReaderProof {
  hash: number;
  /** Live keys at the revision, in key order, with the revision that last wrote each. */
  keys: Array<{ key: Buffer; mod: bigint }>;
  /** The live revisions (17-byte revision keys, latin1): what `liveValues` yields. */
  live: Set<string>;
  passes: number;
}

/** The live values, in revision order: one sequential scan instead of a lookup per key. */
export function* liveValues(snap: Snapshot, live: Set<string>): Generator<KeyValue> {
  for (const e of snap.entries('key')) {
    if (e.value === null) continue;
    if (live.has(Buffer.from(e.key.buffer, e.key.byteOffset, 17).toString('latin1'))) yield decodeKeyValue(e.value, `bucket "key" revision ${e.key.toString('hex')}`);
  }
}

const KEY_BUCKET = Buffer.from('key');

export function readerProof(snap: Snapshot, rev: bigint): ReaderProof {
  const { compactRev, currentRev } = storeRevisions(snap);
  if (rev <= compactRev) throw new HashKVError('compacted', `mvcc: required revision has been compacted (revision ${rev}, compacted at ${compactRev})`);
  if (rev > currentRev) throw new HashKVError('future', `mvcc: required revision is a future revision (revision ${rev}, current ${currentRev})`);
  const newest = new Map<string, { rev: string; main: bigint; tombstone: boolean }>();
  const belowCompact: string[] = [];
  let crc = crc32c(KEY_BUCKET, 0);
  for (const e of snap.entries('key')) {
    if (e.value === null) throw new SnapshotError('etcd', `${snap.name}: a nested bucket in bucket "key"`);
    const rk = parseRevisionKey(e.key);
    if (typeof rk === 'string') throw new SnapshotError('etcd', `bucket "key": ${rk}`);
    if (rk.main > rev) break;
    const k = peekKey(e.value, `bucket "key" revision ${rk.main}_${rk.sub}`);
    const revId = Buffer.from(e.key.buffer, e.key.byteOffset, 17).toString('latin1');
    newest.set(Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1'), { rev: revId, main: rk.main, tombstone: rk.tombstone });
    if (rk.main <= compactRev) belowCompact.push(revId);
    crc = crc32c(Buffer.from(e.key.buffer, e.key.byteOffset, e.key.length), crc);
    crc = crc32c(Buffer.from(e.value.buffer, e.value.byteOffset, e.value.length), crc);
  }
  const keep = new Set<string>();
  const keys: Array<{ key: Buffer; mod: bigint }> = [];
  for (const [k, v] of newest) {
    if (v.tombstone) continue;
    keep.add(v.rev);
    keys.push({ key: Buffer.from(k, 'latin1'), mod: v.main });
  }
  newest.clear();
  keys.sort((a, b) => Buffer.compare(a.key, b.key));
  const exact = keep.size === 0 || belowCompact.every((r) => keep.has(r));
  if (exact) return { hash: crc >>> 0, keys, live: keep, passes: 1 };
  return { hash: snapshotHashKV(snap, rev).hash, keys, live: keep, passes: 3 };
}
