import { BUCKET_HEADER_SIZE, ELEMENT_SIZE, FLAG_BRANCH, FLAG_LEAF, PAGE_HEADER_SIZE, u16, u32, u64 } from './layout.js';
import { PageMap, type Pager } from './pager.js';

interface Frame {
  ids: number[];
  idx: number;
  /** The branch page these ids came from, for messages. */
  parent: number;
}

interface Slab {
  buf: Buffer;
  /** Prefetched pages not yet handed out, plus one while a handed-out page is current. */
  refs: number;
}

interface Prefetched {
  slab: Slab;
  off: number;
  /** Bytes of the same contiguous run from `off` on: overflow pages may already be here. */
  avail: number;
}

/**
 * Yields a bucket's leaf pages in key order, iteratively (explicit stack, depth limit).
 * Reads ahead: the next few hundred page ids are known from the branch pages, so they are
 * sorted, coalesced into contiguous runs and read in one positional read per run. That keeps
 * syscalls low whether the leaves sit in file order or are scattered. Read buffers are reused
 * (fresh memory for every batch costs more in page faults than the reads themselves).
 * Every page is marked in `pages`; a page reached twice (a cycle) is an error.
 *
 * A page returned by next() is valid until the following call to next().
 */
export class TreeWalker {
  private readonly stack: Frame[];
  private readonly pre = new Map<number, Prefetched>();
  private readonly free: Buffer[] = [];
  private held: Slab | undefined;
  /** Overflow of the last leaf read: siblings tend to be alike, so runs are read that far past. */
  private lastOverflow = 0;
  /** The page id of the leaf last returned by next(). */
  current = -1;
  /** Counts so far, for statistics. */
  branchPages = 0;
  overflowPages = 0;
  depth = 0;

  constructor(
    private readonly pager: Pager,
    private readonly pages: PageMap,
    root: number,
    private readonly what: string,
  ) {
    pager.checkId(root, `the root of ${what}`);
    this.stack = [{ ids: [root], idx: 0, parent: -1 }];
  }

  /** The next leaf page (a Buffer from its header), or null at the end. */
  next(): Buffer | null {
    const { pager } = this;
    if (this.held) {
      this.release(this.held);
      this.held = undefined;
    }
    for (;;) {
      let top = this.stack[this.stack.length - 1];
      while (top && top.idx >= top.ids.length) {
        this.stack.pop();
        top = this.stack[this.stack.length - 1];
      }
      if (!top) return null;
      const id = top.ids[top.idx++];
      pager.checkId(id, top.parent < 0 ? `the root of ${this.what}` : `branch ${pager.ref(top.parent)} in ${this.what}`);
      const page = this.fetch(id);
      const flags = u16(page, 8);
      const overflow = page.length / pager.pageSize - 1;
      this.overflowPages += overflow;
      if (this.stack.length > this.depth) this.depth = this.stack.length;
      if (flags === FLAG_LEAF) {
        this.lastOverflow = overflow;
        this.current = id;
        return page;
      }
      this.branchPages++;
      if (flags !== FLAG_BRANCH) throw pager.fail('page', id, `has type flags 0x${flags.toString(16)} where ${this.what} needs a branch or leaf page`);
      if (this.stack.length >= pager.limits.maxDepth) throw pager.fail('tree', id, `${this.what} is deeper than ${pager.limits.maxDepth} levels`);
      const ids = branchChildren(pager, id, page);
      if (this.held) {
        this.release(this.held);
        this.held = undefined;
      }
      this.stack.push({ ids, idx: 0, parent: id });
    }
  }

  private release(slab: Slab): void {
    if (--slab.refs === 0) this.free.push(slab.buf);
  }

  private fetch(id: number): Buffer {
    const { pager } = this;
    let p = this.pre.get(id);
    if (!p) {
      this.prefetch(id);
      p = this.pre.get(id)!;
    }
    this.pre.delete(id);
    const { slab, off } = p;
    try {
      const span = pager.spanOf(id, slab.buf, off);
      this.pages.use(id, span, this.what);
      if (span > p.avail) return pager.read(id);
      // The slab stays ours until the caller moves on; the prefetch reference moves to it.
      this.held = slab;
      return slab.buf.subarray(off, off + span);
    } finally {
      if (this.held !== slab) this.release(slab);
    }
  }

  /** Reads `first` and the ids that follow it in walk order, in coalesced runs. */
  private prefetch(first: number): void {
    const { pager } = this;
    const ps = pager.pageSize;
    const budget = Math.max(1, Math.floor(pager.limits.windowBytes / ps)); // pages per batch
    const want: number[] = [first];
    // Only the siblings still to come: pages of lower frames would pin this buffer for long.
    const fr = this.stack[this.stack.length - 1];
    for (let i = fr.idx; i < fr.ids.length && want.length < budget; i++) {
      const id = fr.ids[i];
      // Bad ids fail when their turn comes, with the right message; used ones likewise.
      if (id >= 2 && id < pager.highWater && !this.pre.has(id) && this.pages.state[id] === 0 && id !== first) want.push(id);
    }
    let sorted = true;
    for (let i = 1; i < want.length && sorted; i++) sorted = want[i - 1] < want[i];
    if (!sorted) want.sort((a, b) => a - b);
    // Runs of ids at most `gap` pages apart are read as one, gaps included (they are often the
    // overflow pages of the page before), as long as the batch stays within its budget.
    const gap = 4;
    const runs: Array<[number, number]> = [];
    const taken: number[] = [];
    let pagesUsed = 0;
    for (const id of want) {
      const last = runs[runs.length - 1];
      if (last && id > last[1] && id <= last[1] + 1 + gap && pagesUsed + (id - last[1]) <= budget) {
        pagesUsed += id - last[1];
        last[1] = id;
      } else if (last && id <= last[1]) {
        continue; // a duplicate id: its second use fails as "reached twice" when its turn comes
      } else if (pagesUsed + 1 <= budget || id === first) {
        pagesUsed += 1;
        runs.push([id, id]);
      } else continue;
      taken.push(id);
    }
    if (!taken.includes(first)) throw new Error('internal: prefetch dropped the page it was asked for');
    // Read the likely overflow pages of each run's last page too, saving a read per run.
    const tail = Math.min(this.lastOverflow, gap);
    for (const run of runs) {
      const extra = Math.min(tail, pager.highWater - 1 - run[1], budget - pagesUsed);
      if (extra <= 0) break;
      run[1] += extra;
      pagesUsed += extra;
    }
    const bytes = pagesUsed * ps;
    let buf = this.free.pop();
    if (!buf || buf.length < bytes) buf = Buffer.allocUnsafeSlow(Math.max(bytes, budget * ps));
    const slab: Slab = { buf, refs: 0 };
    let off = 0;
    for (const [a, b] of runs) {
      const len = (b - a + 1) * ps;
      pager.src.readInto(buf, off, len, a * ps);
      off += len;
    }
    off = 0;
    let r = 0;
    for (const id of taken) {
      while (id > runs[r][1]) {
        off += (runs[r][1] - runs[r][0] + 1) * ps;
        r++;
      }
      this.pre.set(id, { slab, off: off + (id - runs[r][0]) * ps, avail: (runs[r][1] - id + 1) * ps });
      slab.refs++;
    }
  }
}

/** The child page ids of a branch page, bounds-checked. */
export function branchChildren(pager: Pager, id: number, page: Buffer): number[] {
  const count = u16(page, 10);
  if (count === 0) throw pager.fail('page', id, 'is a branch page with no elements');
  if (PAGE_HEADER_SIZE + count * ELEMENT_SIZE > page.length) throw pager.fail('element', id, `${count} branch elements do not fit in a ${page.length}-byte page`);
  const ids = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const kEnd = e + u32(page, e) + u32(page, e + 4);
    if (kEnd > page.length) throw pager.fail('element', id, `branch element ${i} has its key outside the page (ends at ${kEnd} of ${page.length})`);
    ids[i] = u64(page, e + 8);
  }
  return ids;
}

/**
 * Checks every leaf element of `page` lies inside it; returns the element count.
 * `fail` builds the error (pages and inline buckets report their location differently).
 */
export function checkLeaf(page: Uint8Array, fail: (what: string) => Error): number {
  const count = u16(page, 10);
  if (PAGE_HEADER_SIZE + count * ELEMENT_SIZE > page.length) throw fail(`${count} leaf elements do not fit in ${page.length} bytes`);
  for (let i = 0; i < count; i++) {
    const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const end = e + u32(page, e + 4) + u32(page, e + 8) + u32(page, e + 12);
    if (end > page.length) throw fail(`leaf element ${i} has its key/value outside the page (ends at ${end} of ${page.length})`);
  }
  return count;
}

/** Offsets of leaf element `i` (already bounds-checked by checkLeaf). */
export function leafElement(page: Uint8Array, i: number): { flags: number; kStart: number; vStart: number; vEnd: number } {
  const e = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  const kStart = e + u32(page, e + 4);
  const vStart = kStart + u32(page, e + 8);
  return { flags: u32(page, e), kStart, vStart, vEnd: vStart + u32(page, e + 12) };
}

/** A nested bucket, as its parent's value describes it. */
export type BucketRef = { root: number; inline?: undefined } | { root: 0; inline: Buffer };

/** Decodes a bucket value {root u64, sequence u64}[inline leaf page]. */
export function bucketRef(pager: Pager, value: Buffer, where: string, pgid: number): BucketRef {
  if (value.length < BUCKET_HEADER_SIZE) throw pager.fail('bucket', pgid, `${where}: bucket value is ${value.length} bytes, shorter than a bucket header`);
  const root = u64(value, 0);
  if (root !== 0) {
    pager.checkId(root, where);
    return { root };
  }
  const inline = value.subarray(BUCKET_HEADER_SIZE);
  if (inline.length < PAGE_HEADER_SIZE) throw pager.fail('bucket', pgid, `${where}: inline bucket is too short to hold a page`);
  const flags = u16(inline, 8);
  if (flags !== FLAG_LEAF) throw pager.fail('bucket', pgid, `${where}: inline bucket page has type flags 0x${flags.toString(16)}, not a leaf`);
  return { root: 0, inline };
}

/** Leaf pages of a bucket in key order: a walker for a tree, the one inline page otherwise. */
export interface LeafSource {
  next(): Buffer | null;
  current: number;
  branchPages: number;
  overflowPages: number;
  depth: number;
}

export function bucketLeaves(pager: Pager, pages: PageMap, ref: BucketRef, what: string): LeafSource {
  if (ref.inline === undefined) return new TreeWalker(pager, pages, ref.root, what);
  let done = false;
  return {
    current: -1,
    branchPages: 0,
    overflowPages: 0,
    depth: 1,
    next() {
      if (done) return null;
      done = true;
      return ref.inline;
    },
  };
}

/**
 * Finds `key` in a bucket by descending its branch pages (binary search, as bbolt's cursor
 * does). Returns the value, or undefined when absent, or null when the key holds a bucket.
 */
export function lookup(pager: Pager, ref: BucketRef, key: Uint8Array, what: string): Buffer | null | undefined {
  let page: Buffer;
  let id = ref.root;
  if (ref.inline) page = ref.inline;
  else page = pager.cached(id);
  for (let depth = 0; ; depth++) {
    const flags = u16(page, 8);
    if (flags === FLAG_LEAF) break;
    if (flags !== FLAG_BRANCH) throw pager.fail('page', id, `has type flags 0x${flags.toString(16)} where ${what} needs a branch or leaf page`);
    if (depth >= pager.limits.maxDepth) throw pager.fail('tree', id, `${what} is deeper than ${pager.limits.maxDepth} levels`);
    const children = branchChildren(pager, id, page);
    // Last element whose key <= key.
    let lo = 0;
    let hi = children.length - 1;
    let pick = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = PAGE_HEADER_SIZE + mid * ELEMENT_SIZE;
      const kStart = e + u32(page, e);
      const c = Buffer.compare(page.subarray(kStart, kStart + u32(page, e + 4)), key);
      if (c <= 0) {
        pick = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const child = children[pick];
    pager.checkId(child, `branch ${pager.ref(id)} in ${what}`);
    id = child;
    page = pager.cached(id);
  }
  const count = checkLeaf(page, (w) => pager.fail('element', id, w));
  let lo = 0;
  let hi = count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const el = leafElement(page, mid);
    const c = Buffer.compare(page.subarray(el.kStart, el.vStart), key);
    if (c === 0) return el.flags & 1 ? null : Buffer.from(page.subarray(el.vStart, el.vEnd));
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export { PageMap };
