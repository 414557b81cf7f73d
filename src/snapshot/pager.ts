import { SnapshotError, pageRef } from './errors.js';
import { PAGE_HEADER_SIZE, u32, u64 } from './layout.js';
import type { Meta } from './meta.js';
import type { PageSource } from './source.js';

export interface ReaderLimits {
  /** Largest single page span (a page with its overflow) we will load: one value's worth. */
  maxSpanBytes: number;
  /** Deepest B+tree, and deepest bucket nesting, we follow. bbolt trees are a handful of levels. */
  maxDepth: number;
  /** Bytes read ahead per batch when walking leaves. */
  windowBytes: number;
}

export const DEFAULT_LIMITS: ReaderLimits = {
  maxSpanBytes: 256 * 1024 * 1024,
  maxDepth: 64,
  windowBytes: 4 * 1024 * 1024,
};

/**
 * Reads bbolt pages by id with every check a hostile file needs: the id within the high-water
 * mark, the span (page + overflow) within it and within our size limit, the header's own id
 * matching. Pages come back as Buffers starting at the page header.
 */
export class Pager {
  readonly pageSize: number;
  readonly highWater: number;
  private readonly cache = new Map<number, Buffer>();

  constructor(
    readonly src: PageSource,
    readonly meta: Meta,
    readonly limits: ReaderLimits,
  ) {
    this.pageSize = meta.pageSize;
    this.highWater = meta.pgid;
  }

  get name(): string {
    return this.src.name;
  }

  ref(pgid: number): string {
    return pageRef(pgid, this.pageSize);
  }

  fail(code: 'page' | 'element' | 'tree' | 'bucket' | 'freelist' | 'limit' | 'etcd', pgid: number, what: string): SnapshotError {
    return new SnapshotError(code, `${this.name}: ${this.ref(pgid)}: ${what}`, { pgid, offset: pgid * this.pageSize });
  }

  /** A page id found in the tree (`from` says where) must name a data page below the high-water mark. */
  checkId(pgid: number, from: string): void {
    if (!(pgid >= 2 && pgid < this.highWater)) {
      const shown = Number.isFinite(pgid) ? String(pgid) : '>= 2^53';
      throw new SnapshotError('page', `${this.name}: ${from} points to page ${shown}, outside the database (pages 2..${this.highWater - 1})`, {});
    }
  }

  /**
   * Checks the header of a page whose first page is at `buf[off]`, and returns its span in bytes
   * (page + overflow pages).
   */
  spanOf(pgid: number, buf: Uint8Array, off: number): number {
    const id = u64(buf, off);
    if (id !== pgid) throw this.fail('page', pgid, `header holds page id ${Number.isFinite(id) ? id : '>= 2^53'}: a damaged page or a bad pointer to it`);
    const overflow = u32(buf, off + 12);
    if (pgid + overflow >= this.highWater) throw this.fail('page', pgid, `overflow of ${overflow} pages runs past the high-water mark ${this.highWater}`);
    const span = (overflow + 1) * this.pageSize;
    if (span > this.limits.maxSpanBytes) throw this.fail('limit', pgid, `spans ${overflow + 1} pages (${span} bytes), more than the ${this.limits.maxSpanBytes}-byte limit`);
    return span;
  }

  /** Reads a page and its overflow. */
  read(pgid: number): Buffer {
    const first = Buffer.allocUnsafeSlow(this.pageSize);
    this.src.readInto(first, 0, this.pageSize, pgid * this.pageSize);
    const span = this.spanOf(pgid, first, 0);
    if (span === this.pageSize) return first;
    const whole = Buffer.allocUnsafeSlow(span);
    first.copy(whole, 0);
    this.src.readInto(whole, this.pageSize, span - this.pageSize, (pgid + 1) * this.pageSize);
    return whole;
  }

  /** Like read, with a small cache: random lookups descend through the same branch pages. */
  cached(pgid: number): Buffer {
    const hit = this.cache.get(pgid);
    if (hit) {
      this.cache.delete(pgid);
      this.cache.set(pgid, hit);
      return hit;
    }
    const page = this.read(pgid);
    if (page.length <= 64 * 1024) {
      this.cache.set(pgid, page);
      if (this.cache.size > 256) this.cache.delete(this.cache.keys().next().value!);
    }
    return page;
  }
}

/**
 * Pages reached so far, to stop cycles and catch a page used twice (bbolt's "multiple
 * references"), and, once the whole tree is walked, pages neither used nor free.
 */
export class PageMap {
  static readonly USED = 1;
  static readonly FREE = 2;
  readonly state: Uint8Array;

  constructor(private readonly pager: Pager) {
    this.state = new Uint8Array(pager.highWater);
  }

  /** Marks a page span as used. */
  use(pgid: number, spanBytes: number, what: string): void {
    const n = spanBytes / this.pager.pageSize;
    for (let i = 0; i < n; i++) {
      const id = pgid + i;
      const s = this.state[id];
      if (s === PageMap.USED) {
        throw this.pager.fail('tree', id, `reached twice while walking ${what}: a cycle or a page shared between two parents`);
      }
      if (s === PageMap.FREE) throw this.pager.fail('tree', id, `is in use by ${what} but also listed as free`);
      this.state[id] = PageMap.USED;
    }
  }
}

export const HEADER = PAGE_HEADER_SIZE;
