/**
 * A read-only etcd snapshot reader in plain TypeScript: no etcd, no bbolt, no mmap.
 *
 *   const snap = openSnapshot('backup.db');      // opens, finds the trailer, picks the meta page
 *   try {
 *     snap.trailer;                               // { present, dbLength, expected? }
 *     snap.verifyTrailer();                       // sha256 over the db bytes; throws on mismatch
 *     await snap.verifyTrailerAsync();            // the same on a worker thread (files only)
 *     snap.meta;                                  // the chosen bbolt meta page
 *     snap.status();                              // { hash, revision, totalKey, totalSize } as etcdctl
 *     snap.bucketNames();                         // top-level buckets
 *     for (const e of snap.entries('members')) …  // { key, value | null } of any bucket path
 *     snap.bucketStats('key');                    // pages, depth, keys of one bucket
 *     for (const r of snap.revisions()) …         // `key` bucket: { revision, tombstone, kv }
 *     const res = snap.latest({ prefix: Buffer.from('/registry/secrets/') }); // or { key }, { rev }
 *     for (const kv of res.values()) …            // live keys at that revision, in key order
 *   } finally { snap.close(); }
 *
 * `snapshotStatus(path)` does status + trailer check concurrently, as the CLI does
 * (`startTrailerCheck(path)` starts the hashing early). `readValues(snap, query, transform)`
 * (get.ts) is the seam for decrypting values on the way out; src/cli prints them.
 *
 * Reads are positional (PageSource), in batches of coalesced runs, so memory stays at a few MB
 * whatever the file size; the exceptions are `latest()`, which keeps one small record per
 * matching key, and single values, capped at limits.maxSpanBytes.
 * Every damaged or hostile input ends in a SnapshotError (a UserError) naming the problem and
 * the page/offset: walks are iterative with depth limits, every page id is checked against the
 * high-water mark and the file, every page is visited once, every length is bounds-checked.
 * All calls are synchronous except verifyTrailerAsync/snapshotStatus.
 */
import { SnapshotError } from './errors.js';
import { chooseMeta, type Meta } from './meta.js';
import { DEFAULT_LIMITS, Pager, type ReaderLimits } from './pager.js';
import { BufferSource, FileSource, type PageSource } from './source.js';
import { computeStatus, type SnapshotStatus } from './status.js';
import { detectTrailer, verifyTrailerInWorker, verifyTrailerSync, type Trailer, type TrailerCheck } from './trailer.js';
import { bucketNames, bucketStats, findBucket, headRevision, iterateBucket, keyRevisions, latest, metaRevision, type BucketStats, type Entry, type LatestQuery, type LatestResult, type RevisionEntry } from './kv.js';

export { SnapshotError } from './errors.js';
export type { SnapshotErrorCode } from './errors.js';
export type { Meta } from './meta.js';
export type { ReaderLimits } from './pager.js';
export { BufferSource, FileSource, type PageSource } from './source.js';
export type { SnapshotStatus } from './status.js';
export { startTrailerCheck, type Trailer, type TrailerCheck } from './trailer.js';
export type { BucketStats, Entry, LatestQuery, LatestResult, RevisionEntry } from './kv.js';
export { decodeKeyValue, type KeyValue } from './protobuf.js';
export { parseRevisionKey, revisionKey, type Revision, type RevisionKey } from './revision.js';
export { fnv1a64 } from './fnv.js';

/** A top-level bucket name, or the names leading down to a nested bucket. */
export type BucketPath = string | Uint8Array | Array<string | Uint8Array>;

export interface OpenOptions {
  limits?: Partial<ReaderLimits>;
}

export class Snapshot {
  readonly trailer: Trailer;
  readonly meta: Meta;
  private readonly pager: Pager;

  constructor(
    private readonly src: PageSource,
    opts: OpenOptions = {},
    private readonly path?: string,
  ) {
    try {
      this.trailer = detectTrailer(src);
      const dbLength = this.trailer.dbLength;
      this.meta = chooseMeta(
        (offset, length) => {
          const n = Math.max(0, Math.min(length, dbLength - offset));
          const b = Buffer.alloc(n);
          if (n > 0) src.readInto(b, 0, n, offset);
          return b;
        },
        dbLength,
        src.name,
      );
      this.pager = new Pager(src, this.meta, { ...DEFAULT_LIMITS, ...opts.limits });
    } catch (err) {
      src.close();
      throw err;
    }
  }

  get name(): string {
    return this.src.name;
  }

  /** File size in bytes, trailer included. */
  get size(): number {
    return this.src.size;
  }

  get pageSize(): number {
    return this.meta.pageSize;
  }

  /** Hashes the database bytes and compares with the trailer; throws SnapshotError('trailer') on mismatch. */
  verifyTrailer(): TrailerCheck {
    return verifyTrailerSync(this.src, this.trailer);
  }

  /** verifyTrailer on a worker thread when reading a file (the main thread stays free). */
  verifyTrailerAsync(): Promise<TrailerCheck> {
    if (this.path === undefined) return Promise.resolve().then(() => this.verifyTrailer());
    return verifyTrailerInWorker(this.path, this.trailer);
  }

  /** What `etcdctl snapshot status` computes (also walking the whole tree for soundness). */
  status(): SnapshotStatus {
    return computeStatus(this.pager);
  }

  bucketNames(): Buffer[] {
    return bucketNames(this.pager);
  }

  /** Entries of the bucket at `path` (a top-level name, or names down nested buckets). */
  *entries(path: BucketPath): Generator<Entry> {
    const { ref, what } = this.bucket(path);
    yield* iterateBucket(this.pager, ref, what);
  }

  /** Page and key counts of one bucket's tree (like `bbolt stats`). */
  bucketStats(path: BucketPath): BucketStats {
    const { ref, what } = this.bucket(path);
    return bucketStats(this.pager, ref, what);
  }

  private bucket(path: BucketPath) {
    const parts = Array.isArray(path) ? path : [path];
    const names = parts.map((p) => JSON.stringify(Buffer.from(p).toString('latin1'))).join('/');
    const ref = findBucket(this.pager, parts);
    if (!ref) throw new SnapshotError('bucket', `${this.name}: no bucket ${names}`);
    return { ref, what: `bucket ${names}` };
  }

  /** etcd's `key` bucket in revision order (puts and tombstones). Empty when there is no such bucket. */
  revisions(): Generator<RevisionEntry> {
    return keyRevisions(this.pager);
  }

  /** The live keys at a revision, as a restored member would serve them. */
  latest(q: LatestQuery = {}): LatestResult {
    return latest(this.pager, q);
  }

  /** The revision a member restored from this snapshot would start at. */
  headRevision(): bigint {
    return headRevision(this.pager);
  }

  /** etcd's last finished compaction, if any. */
  compactedRevision(): bigint | undefined {
    return metaRevision(this.pager, 'finishedCompactRev');
  }

  close(): void {
    this.src.close();
  }
}

/** Opens a snapshot file (with or without trailer) or a raw member/snap/db. */
export function openSnapshot(path: string, opts: OpenOptions = {}): Snapshot {
  return new Snapshot(new FileSource(path), opts, path);
}

/** Opens snapshot bytes already in memory. */
export function openSnapshotBytes(bytes: Uint8Array, name = 'buffer', opts: OpenOptions = {}): Snapshot {
  return new Snapshot(new BufferSource(bytes, name), opts);
}

export interface StatusReport {
  status: SnapshotStatus;
  trailer: TrailerCheck;
}

/**
 * `snapshot status`: the tree walk on this thread and the sha256 check on a worker, together.
 * When both fail, the sha256 mismatch wins: it explains any damage the walk tripped over.
 * `hashing` is a check already started (startTrailerCheck), for callers that start it early.
 */
export async function snapshotStatus(path: string, opts: OpenOptions & { verifyHash?: boolean; hashing?: Promise<TrailerCheck> } = {}): Promise<StatusReport> {
  const snap = openSnapshot(path, opts);
  try {
    const hashing: Promise<TrailerCheck> = opts.verifyHash === false ? Promise.resolve({ status: 'skipped' }) : (opts.hashing ?? snap.verifyTrailerAsync());
    // Keep an early rejection from being reported as unhandled while the walk runs.
    hashing.catch(() => {});
    let status: SnapshotStatus | undefined;
    let walkErr: unknown;
    try {
      status = snap.status();
    } catch (err) {
      walkErr = err;
    }
    const trailer = await hashing;
    if (walkErr !== undefined) throw walkErr;
    return { status: status!, trailer };
  } finally {
    snap.close();
  }
}

export { readValues, type ValueTransform, type ValuesResult } from './get.js';
