/**
 * etcd's HashKV (maintenance API; `etcdctl endpoint hashkv --rev R`) computed from a snapshot,
 * as etcd 3.4's mvcc store.HashByRev does it (mvcc/kvstore.go):
 *
 *   rev <= compactRev            → ErrCompacted;  rev > currentRev → ErrFutureRev;  0 → currentRev
 *   keep := kvindex.Keep(rev)    the revisions a compaction at rev would keep
 *   crc32c("key"), then for each (k, v) of the `key` bucket in order with k.main <= rev:
 *     when k.main <= compactRev and keep is not empty, only if k is in keep;  crc32c(k), crc32c(v)
 *
 * keyIndex.keep(rev) keeps, per key, its newest revision at or below rev unless that one is a
 * tombstone; that is what pass one computes here. So the hash ignores what a compaction has
 * or has not yet physically removed, which is why it can compare members, or a member with a
 * backup of it. Two passes over the bucket; memory is one small record per distinct key.
 */
import { crc32c } from '@node-rs/crc32';
import { SnapshotError } from './errors.js';
import { peekKey } from './protobuf.js';
import { parseRevisionKey } from './revision.js';
import type { Snapshot } from './index.js';

export interface HashKVInput {
  /** The `key` bucket's entries in key order; called twice. */
  scan: () => Iterable<{ key: Uint8Array; value: Uint8Array }>;
  /** The store's compacted revision (-1 when never compacted, as etcd reports it). */
  compactRev: bigint;
  /** The store's current revision. */
  currentRev: bigint;
}

export interface HashKVResult {
  /** crc32c, unsigned. */
  hash: number;
  /** The store's current revision (the response header's revision). */
  revision: bigint;
  compactRevision: bigint;
  /** The revision hashed (rev, or currentRev for 0). */
  hashRevision: bigint;
}

const KEY_BUCKET = Buffer.from('key');

/** The error etcd answers with: `mvcc: required revision has been compacted` and the like. */
export class HashKVError extends SnapshotError {
  constructor(
    readonly reason: 'compacted' | 'future',
    message: string,
  ) {
    super('etcd', message);
  }
}

export function hashKV(input: HashKVInput, rev = 0n): HashKVResult {
  const { compactRev, currentRev } = input;
  if (rev > 0n && rev <= compactRev) throw new HashKVError('compacted', `mvcc: required revision has been compacted (revision ${rev}, compacted at ${compactRev})`);
  if (rev > 0n && rev > currentRev) throw new HashKVError('future', `mvcc: required revision is a future revision (revision ${rev}, current ${currentRev})`);
  if (rev <= 0n) rev = currentRev;

  // Pass 1: each key's newest revision at or below rev; keep those that are not tombstones.
  const newest = new Map<string, { rev: string; tombstone: boolean }>();
  for (const { key, value } of input.scan()) {
    const rk = revisionOf(key);
    if (rk.main > rev) break;
    const k = peekKey(value, `bucket "key" revision ${rk.main}_${rk.sub}`);
    newest.set(Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1'), { rev: Buffer.from(key.buffer, key.byteOffset, 17).toString('latin1'), tombstone: rk.tombstone });
  }
  const keep = new Set<string>();
  for (const v of newest.values()) if (!v.tombstone) keep.add(v.rev);
  newest.clear();

  // Pass 2: the hash.
  let crc = crc32c(KEY_BUCKET, 0);
  for (const { key, value } of input.scan()) {
    const rk = revisionOf(key);
    if (rk.main > rev) break;
    if (rk.main <= compactRev && keep.size > 0 && !keep.has(Buffer.from(key.buffer, key.byteOffset, 17).toString('latin1'))) continue;
    crc = crc32c(Buffer.from(key.buffer, key.byteOffset, key.length), crc);
    crc = crc32c(Buffer.from(value.buffer, value.byteOffset, value.length), crc);
  }
  return { hash: crc >>> 0, revision: currentRev, compactRevision: compactRev, hashRevision: rev };
}

function revisionOf(key: Uint8Array): { main: bigint; sub: bigint; tombstone: boolean } {
  const rk = parseRevisionKey(key);
  if (typeof rk === 'string') throw new SnapshotError('etcd', `bucket "key": ${rk}`);
  return rk;
}

/**
 * What a member restored from `snap` reports as its compacted and current revisions
 * (store.restore: finishedCompactRev, the last key's revision, a scheduled compaction resumed).
 */
export function storeRevisions(snap: Snapshot): { compactRev: bigint; currentRev: bigint } {
  let compactRev = snap.compactedRevision() ?? -1n;
  let scheduled: bigint | undefined;
  for (const e of snap.entries('meta')) {
    if (e.value && e.key.toString('latin1') === 'scheduledCompactRev') {
      const rk = parseRevisionKey(e.value);
      if (typeof rk === 'string') throw new SnapshotError('etcd', `${snap.name}: bucket "meta" key scheduledCompactRev: ${rk}`);
      scheduled = rk.main;
    }
  }
  // The last key's revision or the finished compaction's; an empty store starts at 1.
  const head = snap.headRevision();
  let currentRev = head > 0n ? head : 1n;
  if (scheduled !== undefined && scheduled > compactRev && scheduled <= currentRev) {
    compactRev = scheduled;
    if (currentRev < compactRev) currentRev = compactRev;
  }
  return { compactRev, currentRev };
}

/** HashKV of the store a member restored from `snap` would serve, at `rev` (0: current). */
export function snapshotHashKV(snap: Snapshot, rev = 0n): HashKVResult {
  const { compactRev, currentRev } = storeRevisions(snap);
  return hashKV(
    {
      compactRev,
      currentRev,
      scan: function* () {
        for (const e of snap.entries('key')) {
          if (e.value === null) throw new SnapshotError('etcd', `${snap.name}: a nested bucket in bucket "key"`);
          yield { key: e.key, value: e.value };
        }
      },
    },
    rev,
  );
}
