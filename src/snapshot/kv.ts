import { SnapshotError } from './errors.js';
import { LEAF_BUCKET } from './layout.js';
import { PageMap, type Pager } from './pager.js';
import { decodeKeyValue, peekKey, type KeyValue } from './protobuf.js';
import { parseRevisionKey, revisionKey, type Revision } from './revision.js';
import { bucketLeaves, bucketRef, checkLeaf, leafElement, lookup, type BucketRef } from './walk.js';

/** One entry of a bucket. `value` is null for a nested bucket. Buffers are copies. */
export interface Entry {
  key: Buffer;
  value: Buffer | null;
}

/** One record of etcd's `key` bucket: a revision of a key (a put, or a delete's tombstone). */
export interface RevisionEntry {
  revision: Revision;
  tombstone: boolean;
  /** The stored KeyValue; a tombstone holds only the key (and zeros). */
  kv: KeyValue;
}

export interface LatestQuery {
  /** Exactly this key. */
  key?: Uint8Array;
  /** Every key starting with this (an empty prefix selects all keys). */
  prefix?: Uint8Array;
  /** The store as of this revision (default: the head). */
  rev?: bigint;
}

const ROOT_WHAT = 'the root bucket';

/** Top-level bucket names, in key order. */
export function bucketNames(pager: Pager): Buffer[] {
  return [...iterateBucket(pager, { root: pager.meta.root }, ROOT_WHAT)].map((e) => e.key);
}

/** The bucket named by `path` (top-level name, then nested names), or undefined. */
export function findBucket(pager: Pager, path: Array<string | Uint8Array>): BucketRef | undefined {
  let ref: BucketRef = { root: pager.meta.root };
  let what = ROOT_WHAT;
  for (const part of path) {
    const name = typeof part === 'string' ? Buffer.from(part) : part;
    const raw = lookupRaw(pager, ref, name, what);
    if (raw === undefined) return undefined;
    what = `bucket ${JSON.stringify(Buffer.from(name).toString('latin1'))}`;
    ref = raw;
  }
  return ref;
}

function lookupRaw(pager: Pager, ref: BucketRef, name: Uint8Array, what: string): BucketRef | undefined {
  // lookup() hides bucket values; walk the leaf for the raw bucket header instead.
  const leaves = bucketLeaves(pager, new PageMap(pager), ref, what);
  for (let page = leaves.next(); page; page = leaves.next()) {
    const at = ref.inline ? 0 : leaves.current;
    const count = checkLeaf(page, (w) => pager.fail('element', at, `${what}: ${w}`));
    for (let i = 0; i < count; i++) {
      const el = leafElement(page, i);
      const c = Buffer.compare(page.subarray(el.kStart, el.vStart), name);
      if (c === 0) {
        if (!(el.flags & LEAF_BUCKET)) return undefined;
        return bucketRef(pager, page.subarray(el.vStart, el.vEnd), `${what} key ${JSON.stringify(Buffer.from(name).toString('latin1'))}`, at);
      }
      if (c > 0) return undefined;
    }
  }
  return undefined;
}

/** Every entry of a bucket in key order, with cycle protection and bounds checks. */
export function* iterateBucket(pager: Pager, ref: BucketRef, what: string): Generator<Entry> {
  const leaves = bucketLeaves(pager, new PageMap(pager), ref, what);
  for (let page = leaves.next(); page; page = leaves.next()) {
    const at = ref.inline ? 0 : leaves.current;
    const count = checkLeaf(page, (w) => pager.fail('element', at, `${what}: ${w}`));
    for (let i = 0; i < count; i++) {
      const el = leafElement(page, i);
      yield {
        key: Buffer.from(page.subarray(el.kStart, el.vStart)),
        value: el.flags & LEAF_BUCKET ? null : Buffer.from(page.subarray(el.vStart, el.vEnd)),
      };
    }
  }
}

/** Shape of one bucket's tree (like `bbolt stats`): for inspection and tests. */
export interface BucketStats {
  inline: boolean;
  keys: number;
  nestedBuckets: number;
  leafPages: number;
  branchPages: number;
  overflowPages: number;
  /** Levels from the root page down to the leaves (1 for a lone leaf or an inline bucket). */
  depth: number;
}

export function bucketStats(pager: Pager, ref: BucketRef, what: string): BucketStats {
  const leaves = bucketLeaves(pager, new PageMap(pager), ref, what);
  const st: BucketStats = { inline: ref.inline !== undefined, keys: 0, nestedBuckets: 0, leafPages: 0, branchPages: 0, overflowPages: 0, depth: 0 };
  for (let page = leaves.next(); page; page = leaves.next()) {
    const at = ref.inline ? 0 : leaves.current;
    const count = checkLeaf(page, (w) => pager.fail('element', at, `${what}: ${w}`));
    st.leafPages++;
    st.keys += count;
    for (let i = 0; i < count; i++) if (leafElement(page, i).flags & LEAF_BUCKET) st.nestedBuckets++;
  }
  st.branchPages = leaves.branchPages;
  st.overflowPages = leaves.overflowPages;
  st.depth = leaves.depth;
  return st;
}

function keyBucket(pager: Pager): BucketRef | undefined {
  return findBucket(pager, ['key']);
}

/**
 * The `key` bucket's records in revision order, decoded. Fails on keys that are not revision
 * keys, on keys out of order, and on values that are not KeyValue protobufs.
 */
export function* keyRevisions(pager: Pager): Generator<RevisionEntry> {
  const ref = keyBucket(pager);
  if (!ref) return;
  yield* scanKeyBucket(pager, ref, (v, where) => decodeKeyValue(v, where));
}

function* scanKeyBucket<T>(pager: Pager, ref: BucketRef, decode: (v: Uint8Array, where: string) => T): Generator<{ revision: Revision; tombstone: boolean; revKey: Buffer; kv: T }> {
  const what = 'bucket "key"';
  const leaves = bucketLeaves(pager, new PageMap(pager), ref, what);
  let prev: Buffer | undefined;
  for (let page = leaves.next(); page; page = leaves.next()) {
    const at = ref.inline ? 0 : leaves.current;
    const count = checkLeaf(page, (w) => pager.fail('element', at, `${what}: ${w}`));
    for (let i = 0; i < count; i++) {
      const el = leafElement(page, i);
      const k = page.subarray(el.kStart, el.vStart);
      const where = `${pager.name}: ${pager.ref(at)}: ${what} element ${i}`;
      if (el.flags & LEAF_BUCKET) throw new SnapshotError('etcd', `${where}: a nested bucket where etcd keeps revisions`, { pgid: at });
      const rk = parseRevisionKey(k);
      if (typeof rk === 'string') throw new SnapshotError('etcd', `${where}: ${rk}`, { pgid: at });
      if (prev && Buffer.compare(prev, k) >= 0) throw new SnapshotError('etcd', `${where}: revision keys out of order (damaged tree)`, { pgid: at });
      prev = Buffer.from(k);
      yield { revision: { main: rk.main, sub: rk.sub }, tombstone: rk.tombstone, revKey: prev, kv: decode(page.subarray(el.vStart, el.vEnd), where) };
    }
  }
}

/** A revision stored in the `meta` bucket (etcd writes revToBytes there), if present. */
export function metaRevision(pager: Pager, name: 'finishedCompactRev' | 'scheduledCompactRev'): bigint | undefined {
  const meta = findBucket(pager, ['meta']);
  if (!meta) return undefined;
  const v = lookup(pager, meta, Buffer.from(name), 'bucket "meta"');
  if (!v) return undefined;
  const rk = parseRevisionKey(v);
  if (typeof rk === 'string') throw new SnapshotError('etcd', `${pager.name}: bucket "meta" key ${name}: ${rk}`);
  return rk.main;
}

/** The revision a member restored from this snapshot starts at: the last key's, or the compaction's. */
export function headRevision(pager: Pager): bigint {
  let last = 0n;
  const ref = keyBucket(pager);
  if (ref) {
    for (const e of scanKeyBucket(pager, ref, () => undefined)) last = e.revision.main;
  }
  const compacted = metaRevision(pager, 'finishedCompactRev') ?? 0n;
  return last > compacted ? last : compacted;
}

export interface LatestResult {
  /** The store's head revision (what etcd puts in a response header). */
  headRevision: bigint;
  compactedRevision: bigint | undefined;
  /** The matching live keys at the requested revision, in key order. */
  values(): Generator<KeyValue>;
}

/**
 * What a member restored from this snapshot would return for a range at `rev` (default head):
 * the newest revision of each matching key at or below `rev`, unless that is a tombstone.
 * Two passes keep memory to one small record per matching key: the first finds each key's
 * newest revision, the second fetches those values by revision, in key order.
 */
export function latest(pager: Pager, q: LatestQuery = {}): LatestResult {
  if (q.key && q.prefix) throw new SnapshotError('etcd', 'give either a key or a prefix, not both');
  if (q.rev !== undefined && q.rev < 0n) throw new SnapshotError('etcd', `revision ${q.rev} is negative`);
  // etcd reads revision 0 as "the head".
  if (q.rev === 0n) q = { ...q, rev: undefined };
  const ref = keyBucket(pager);
  const compacted = metaRevision(pager, 'finishedCompactRev');
  const newest = new Map<string, string>(); // etcd key (latin1) -> revision key (latin1)
  let last = 0n;
  const key = q.key ? Buffer.from(q.key) : undefined;
  const prefix = q.prefix ? Buffer.from(q.prefix) : undefined;
  if (ref) {
    for (const e of scanKeyBucket(pager, ref, (v, where) => peekKey(v, where))) {
      last = e.revision.main;
      if (q.rev !== undefined && e.revision.main > q.rev) continue;
      const k = e.kv;
      if (key && Buffer.compare(k, key) !== 0) continue;
      if (prefix && (k.length < prefix.length || Buffer.compare(k.subarray(0, prefix.length), prefix) !== 0)) continue;
      const name = Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');
      if (e.tombstone) newest.delete(name);
      else newest.set(name, e.revKey.toString('latin1'));
    }
  }
  const head = compacted !== undefined && compacted > last ? compacted : last;
  if (q.rev !== undefined) {
    if (q.rev > head) throw new SnapshotError('etcd', `required revision ${q.rev} is a future revision (the snapshot's head is ${head})`);
    if (compacted !== undefined && q.rev < compacted) throw new SnapshotError('etcd', `required revision ${q.rev} has been compacted (compacted at ${compacted})`);
  }
  // latin1 strings compare code unit by code unit, which is byte order.
  const names = [...newest.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    headRevision: head,
    compactedRevision: compacted,
    *values() {
      for (const name of names) {
        const rk = Buffer.from(newest.get(name)!, 'latin1');
        const v = lookup(pager, ref!, rk, 'bucket "key"');
        if (!v) throw new SnapshotError('etcd', `${pager.name}: revision ${rk.toString('hex')} vanished between two reads of bucket "key" (damaged tree)`);
        yield decodeKeyValue(v, `${pager.name}: bucket "key" revision ${parseRev(rk)}`);
      }
    },
  };
}

function parseRev(k: Buffer): string {
  const r = parseRevisionKey(k);
  return typeof r === 'string' ? k.toString('hex') : `${r.main}_${r.sub}`;
}

export { revisionKey };
