/**
 * `snapshot restore --bump-revision N --mark-compacted`, as etcd 3.5.10+ (etcdutl) and 3.4.27+
 * (etcdctl) do it to a restored db (modifyLatestRevision in snapshot/v3_snapshot.go):
 *
 *   latest := max revision over the `key` bucket's keys        (unsafeGetLatestRevision)
 *   latest.main += N; latest.sub = 0
 *   key[revToBytes(latest)] = []byte{}                           (unsafeBumpRevision)
 *   meta["scheduledCompactRev"] = revToBytes({main: latest.main}) (mvcc.UnsafeSetScheduledCompact)
 *
 * When etcd starts on that db, mvcc's store.restore() sees a scheduled compaction above the
 * finished one and resumes it: the placeholder makes latest+N the current revision, every
 * older revision is compacted, watches from before are cancelled, and the next write gets
 * latest+N+1. Pure: the caller reads the last `key` bucket key and applies the patch.
 */
import { UserError } from '../util/errors.js';
import type { BucketPatch } from '../bbolt/patch.js';
import { parseRevisionKey, revisionKey, type Revision } from '../snapshot/revision.js';

/** etcd's bucket and key names (mvcc/kvstore.go). */
export const KEY_BUCKET = 'key';
export const META_BUCKET = 'meta';
export const SCHEDULED_COMPACT_KEY = 'scheduledCompactRev';
export const FINISHED_COMPACT_KEY = 'finishedCompactRev';

const MAX_INT64 = (1n << 63n) - 1n;

export interface RevisionBump {
  /** The highest revision in the `key` bucket before the bump ({0, 0} when it is empty). */
  latest: Revision;
  /** latest.main + N: the placeholder's revision, the compaction mark, the new current revision. */
  bumped: bigint;
  /** The two puts, for patchBucket on the root bucket. */
  patch: BucketPatch;
}

/**
 * The bump of `amount` on a db whose last `key` bucket key is `lastKey` (undefined when the
 * bucket is empty). Byte order of revision keys is revision order, so the last key is etcd's
 * maximum.
 */
export function revisionBump(lastKey: Uint8Array | undefined, amount: bigint): RevisionBump {
  if (amount <= 0n) throw new UserError(`revision bump of ${amount}: want a positive number`);
  let latest: Revision = { main: 0n, sub: 0n };
  if (lastKey !== undefined) {
    const rk = parseRevisionKey(lastKey);
    if (typeof rk === 'string') throw new UserError(`the last key of the "key" bucket is not an etcd revision: ${rk}`);
    latest = { main: rk.main, sub: rk.sub };
  }
  const bumped = latest.main + amount;
  // etcd adds in int64 and would wrap around; refuse instead.
  if (bumped > MAX_INT64) throw new UserError(`--bump-revision ${amount} takes revision ${latest.main} past the largest etcd revision (2^63-1): use a smaller bump`);
  const rev = revisionKey({ main: bumped, sub: 0n });
  return {
    latest,
    bumped,
    patch: {
      buckets: [
        { name: Buffer.from(KEY_BUCKET), patch: { puts: [{ key: rev, value: Buffer.alloc(0) }] } },
        { name: Buffer.from(META_BUCKET), patch: { puts: [{ key: Buffer.from(SCHEDULED_COMPACT_KEY), value: revisionKey({ main: bumped, sub: 0n }) }] } },
      ],
    },
  };
}

/**
 * etcdutl's flag rule: --mark-compacted is required when --bump-revision > 0 and refused
 * without it. Returns the bump (0n: none).
 */
export function bumpFromFlags(bumpRevision: string | undefined, markCompacted: boolean | undefined): bigint {
  let n = 0n;
  if (bumpRevision !== undefined) {
    if (!/^\d+$/.test(bumpRevision)) throw new UserError(`--bump-revision ${bumpRevision}: want a whole number of revisions (e.g. 1000000000)`);
    n = BigInt(bumpRevision);
    if (n > MAX_INT64) throw new UserError(`--bump-revision ${bumpRevision} is larger than etcd's largest revision (2^63-1)`);
  }
  if (n > 0n && !markCompacted) throw new UserError(`--bump-revision ${n} needs --mark-compacted (etcd: "--mark-compacted required if --revision-bump > 0"), so that clients see the old revisions as compacted`);
  if (n === 0n && markCompacted) throw new UserError('--mark-compacted needs --bump-revision N with N > 0 (etcd refuses it alone)');
  return n;
}
