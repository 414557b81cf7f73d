/**
 * A database as a tree of buckets, streamed: each bucket is its sequence and a generator of
 * entries in key order (values, or nested buckets with their own generator). This is what the
 * bbolt writer (src/bbolt/writer.ts) consumes, so a database can be rewritten page by page.
 * Every bucket of one DbTree shares one page map: a page reached twice anywhere is an error.
 */
import { FLAG_BRANCH, FLAG_LEAF, LEAF_BUCKET, u16, u64big } from './layout.js';
import { chooseMeta, type Meta } from './meta.js';
import { DEFAULT_LIMITS, PageMap, Pager, type ReaderLimits } from './pager.js';
import { FileSource, type PageSource } from './source.js';
import { detectTrailer, type Trailer } from './trailer.js';
import { findBucket, iterateBucket } from './kv.js';
import { branchChildren, bucketLeaves, bucketRef, checkLeaf, leafElement, type BucketRef } from './walk.js';

export interface TreeBucket {
  sequence: bigint;
  entries(): Generator<TreeEntry>;
}

/** Keys and values are copies, owned by the caller. */
export type TreeEntry = { key: Buffer; value: Buffer; bucket?: undefined } | { key: Buffer; value?: undefined; bucket: TreeBucket };

export class DbTree {
  readonly meta: Meta;
  readonly trailer: Trailer;
  readonly pager: Pager;
  private readonly pages: PageMap;

  constructor(
    private readonly src: PageSource,
    limits: Partial<ReaderLimits> = {},
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
      this.pager = new Pager(src, this.meta, { ...DEFAULT_LIMITS, ...limits });
      this.pages = new PageMap(this.pager);
    } catch (err) {
      src.close();
      throw err;
    }
  }

  get name(): string {
    return this.src.name;
  }

  /** The root bucket: top-level bucket names and their contents. Walk it once. */
  root(): TreeBucket {
    return this.bucket({ root: this.meta.root }, this.meta.rootSequence, 'the root bucket', 0);
  }

  private bucket(ref: BucketRef, sequence: bigint, what: string, depth: number): TreeBucket {
    const tree = this;
    return {
      sequence,
      *entries() {
        yield* tree.walk(ref, what, depth);
      },
    };
  }

  private *walk(ref: BucketRef, what: string, depth: number): Generator<TreeEntry> {
    const { pager } = this;
    if (depth > pager.limits.maxDepth) throw pager.fail('tree', ref.root, `buckets nested deeper than ${pager.limits.maxDepth} levels at ${what}`);
    const leaves = bucketLeaves(pager, this.pages, ref, what);
    for (let page = leaves.next(); page; page = leaves.next()) {
      const at = ref.inline ? 0 : leaves.current;
      const count = checkLeaf(page, (w) => pager.fail('element', at, `${what}: ${w}`));
      for (let i = 0; i < count; i++) {
        const el = leafElement(page, i);
        const key = Buffer.from(page.subarray(el.kStart, el.vStart));
        if (el.flags & LEAF_BUCKET) {
          // A copy: the child is walked while this page may be recycled by our walker.
          const raw = Buffer.from(page.subarray(el.vStart, el.vEnd));
          const label = key.toString('latin1');
          const childWhat = depth === 0 ? `bucket ${JSON.stringify(label)}` : `${what}/${JSON.stringify(label)}`;
          const child = bucketRef(pager, raw, `${what} key ${JSON.stringify(label)}`, at);
          yield { key, bucket: this.bucket(child, u64big(raw, 8), childWhat, depth + 1) };
        } else {
          if (depth === 0) throw pager.fail('bucket', at, `top-level key ${JSON.stringify(key.toString('latin1'))} is not a bucket`);
          yield { key, value: Buffer.from(page.subarray(el.vStart, el.vEnd)) };
        }
      }
    }
  }

  /**
   * The last key of the bucket at `path` (undefined when it is empty or missing), found by
   * descending the rightmost branch, as a cursor's Last() does: a few page reads, not a scan.
   */
  lastKey(path: string[]): Buffer | undefined {
    const { pager } = this;
    const ref = findBucket(pager, path);
    if (!ref) return undefined;
    const what = `bucket ${JSON.stringify(path.join('/'))}`;
    let page = ref.inline ?? pager.read(ref.root);
    let id = ref.root;
    for (let depth = 0; ; depth++) {
      const flags = u16(page, 8);
      if (flags === FLAG_LEAF) break;
      if (flags !== FLAG_BRANCH) throw pager.fail('page', id, `has type flags 0x${flags.toString(16)} where ${what} needs a branch or leaf page`);
      if (depth >= pager.limits.maxDepth) throw pager.fail('tree', id, `${what} is deeper than ${pager.limits.maxDepth} levels`);
      const children = branchChildren(pager, id, page);
      id = children[children.length - 1];
      pager.checkId(id, `branch ${pager.ref(id)} in ${what}`);
      page = pager.read(id);
    }
    const count = checkLeaf(page, (w) => pager.fail('element', id, `${what}: ${w}`));
    if (count > 0) {
      const el = leafElement(page, count - 1);
      return Buffer.from(page.subarray(el.kStart, el.vStart));
    }
    // An empty leaf below a branch is not something bbolt leaves behind; scan to be sure.
    let last: Buffer | undefined;
    for (const e of iterateBucket(pager, ref, what)) last = e.key;
    return last;
  }

  close(): void {
    this.src.close();
  }
}

export function openDbTree(path: string, limits?: Partial<ReaderLimits>): DbTree {
  return new DbTree(new FileSource(path), limits);
}
