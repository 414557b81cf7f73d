/**
 * A streaming bbolt writer: builds a fresh, compact database from buckets given in key order,
 * the way a bulk load would, and hands each page to a sink as soon as it is complete.
 *
 * Leaves are filled up to a threshold (bbolt's FillPercent, etcd's defrag uses 0.9) with at
 * least two elements each (bbolt's minKeysPerPage); a full leaf is written at once and its
 * first key goes up to a branch level, which fills and flushes the same way. So memory holds
 * one partial page per tree level, never a whole bucket, and page ids go out in increasing
 * order: the file is written front to back. Small buckets without sub-buckets are stored
 * inline in their parent's value, as bbolt does (Bucket.inlineable: at most pageSize/4 bytes).
 * The root bucket always gets pages. A freelist page (empty: nothing is free in a fresh file)
 * follows the data, then both meta pages are written.
 *
 * Pure: no I/O here; the sink decides where pages go (src/bbolt/file.ts writes a file).
 */
import { PAGE_HEADER_SIZE } from '../snapshot/layout.js';
import { branchItemSize, branchPage, bucketValue, freelistPage, leafItemSize, leafPage, metaPage, pagesFor, type BranchItem, type LeafItem, type MetaFields } from './page.js';

/** A bucket to write: its sequence (NextSequence state) and its entries in strict key order. */
export interface BucketSource {
  sequence: bigint;
  entries(): Iterable<SourceEntry>;
}

export type SourceEntry = { key: Uint8Array; value: Uint8Array; bucket?: undefined } | { key: Uint8Array; value?: undefined; bucket: BucketSource };

/** Where pages go. Data pages arrive in increasing pgid order; meta pages 0 and 1 come last. */
export interface PageSink {
  write(pgid: number, span: Buffer): void;
}

export interface WriterOptions {
  pageSize?: number;
  /** How full leaf and branch pages get before a new one starts (0.1..1). */
  fillPercent?: number;
  /** txid of the newer meta page (the other gets txid - 1). */
  txid?: bigint;
}

export interface WriteResult {
  meta: MetaFields;
  /** Pages written, metas and freelist included (= meta.pgid). */
  pages: number;
  buckets: number;
  keys: number;
}

// bbolt limits (db.go / bucket.go).
export const MAX_KEY_SIZE = 32768;
export const MAX_VALUE_SIZE = 2 ** 31 - 2;
const MIN_KEYS_PER_PAGE = 2;

export class BoltWriter {
  readonly pageSize: number;
  private readonly threshold: number;
  private readonly maxInline: number;
  private next = 2; // pages 0 and 1 are the metas
  private buckets = 0;
  private keys = 0;

  constructor(
    private readonly sink: PageSink,
    private readonly opts: WriterOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 4096;
    if (!(this.pageSize >= 1024 && this.pageSize <= 65536 && (this.pageSize & (this.pageSize - 1)) === 0)) throw new Error(`bbolt writer: unsupported page size ${this.pageSize}`);
    const fill = Math.min(1, Math.max(0.1, opts.fillPercent ?? 0.9));
    this.threshold = Math.floor(this.pageSize * fill);
    this.maxInline = this.pageSize / 4;
  }

  /** Writes the whole database: the root bucket's tree, the freelist, then both metas. */
  write(root: BucketSource): WriteResult {
    const rootPgid = this.bucket(root, false, 'the root bucket').root;
    const freelist = this.alloc(1);
    this.sink.write(freelist, freelistPage(freelist, [], this.pageSize));
    const txid = this.opts.txid ?? 1n;
    const meta: MetaFields = { pageSize: this.pageSize, root: rootPgid, rootSequence: root.sequence, freelist, pgid: this.next, txid };
    // The newer meta sits where bbolt would have committed txid (txid % 2), the other one is a
    // valid fallback to the same tree.
    const newer = Number(txid % 2n) as 0 | 1;
    this.sink.write(1 - newer, metaPage((1 - newer) as 0 | 1, { ...meta, txid: txid > 0n ? txid - 1n : 0n }));
    this.sink.write(newer, metaPage(newer, meta));
    return { meta, pages: this.next, buckets: this.buckets, keys: this.keys };
  }

  alloc(n: number): number {
    const id = this.next;
    this.next += n;
    return id;
  }

  /** Writes one bucket's tree; returns its root page, or its inline items. */
  private bucket(src: BucketSource, allowInline: boolean, what: string): { root: number; inline?: LeafItem[] } {
    this.buckets++;
    let pending: LeafItem[] | undefined = allowInline ? [] : undefined;
    let inlineSize = PAGE_HEADER_SIZE;
    let leaves: Level | undefined = allowInline ? undefined : new Level(this, true);
    let prev: Uint8Array | undefined;
    for (const e of src.entries()) {
      const key = e.key;
      if (key.length === 0) throw new Error(`bbolt writer: ${what}: an empty key (bbolt forbids them)`);
      if (key.length > MAX_KEY_SIZE) throw new Error(`bbolt writer: ${what}: a ${key.length}-byte key, more than bbolt's ${MAX_KEY_SIZE}`);
      if (prev && Buffer.compare(prev, key) >= 0) throw new Error(`bbolt writer: ${what}: keys not in strictly increasing order at ${Buffer.from(key).toString('hex')}`);
      prev = key;
      let item: LeafItem;
      if (e.bucket) {
        const child = this.bucket(e.bucket, true, `${what}/${Buffer.from(key).toString('latin1')}`);
        item = { key, value: bucketValue(child.root, e.bucket.sequence, child.inline), bucket: true };
      } else {
        if (e.value.length > MAX_VALUE_SIZE) throw new Error(`bbolt writer: ${what}: a ${e.value.length}-byte value, more than bbolt's ${MAX_VALUE_SIZE}`);
        item = { key, value: e.value };
        this.keys++;
      }
      if (pending) {
        inlineSize += leafItemSize(item);
        if (!item.bucket && inlineSize <= this.maxInline) {
          pending.push(item);
          continue;
        }
        leaves = new Level(this, true);
        for (const p of pending) leaves.add(p);
        pending = undefined;
      }
      leaves!.add(item);
    }
    if (pending) return { root: 0, inline: pending };
    return { root: leaves!.finish() };
  }

  /** Allocates and writes a page span; returns its first pgid. */
  emit(leaf: boolean, items: LeafItem[] | BranchItem[], bytes: number): number {
    const id = this.alloc(pagesFor(bytes, this.pageSize));
    const span = leaf ? leafPage(id, items as LeafItem[], this.pageSize) : branchPage(id, items as BranchItem[], this.pageSize);
    this.sink.write(id, span);
    return id;
  }

  fits(count: number, size: number, more: number): boolean {
    return count < MIN_KEYS_PER_PAGE || size + more <= this.threshold;
  }
}

/**
 * One level of a bucket's tree under construction: a partial page, and the level above,
 * made once this level has written a second page (a lone page is the root).
 */
class Level {
  private items: Array<LeafItem | BranchItem> = [];
  private size = PAGE_HEADER_SIZE;
  private pages = 0;
  private first: BranchItem | undefined;
  private parent: Level | undefined;

  constructor(
    private readonly w: BoltWriter,
    private readonly leaf: boolean,
  ) {}

  add(item: LeafItem | BranchItem): void {
    const n = this.leaf ? leafItemSize(item as LeafItem) : branchItemSize(item as BranchItem);
    if (!this.w.fits(this.items.length, this.size, n)) this.flush();
    this.items.push(item);
    this.size += n;
  }

  private flush(): void {
    const items = this.items;
    const pgid = this.w.emit(this.leaf, items as LeafItem[] | BranchItem[], this.size);
    this.items = [];
    this.size = PAGE_HEADER_SIZE;
    // An empty leaf (an empty bucket with a page) has no first key; it is always a root.
    const ref: BranchItem = { key: items.length ? items[0].key : new Uint8Array(0), pgid };
    this.pages++;
    if (this.pages === 1) {
      this.first = ref;
      return;
    }
    if (!this.parent) {
      this.parent = new Level(this.w, false);
      this.parent.add(this.first!);
    }
    this.parent.add(ref);
  }

  /** Flushes what is left; returns the root page of the tree. */
  finish(): number {
    if (this.items.length > 0 || this.pages === 0) this.flush();
    return this.parent ? this.parent.finish() : this.first!.pgid;
  }
}

/** A sink that keeps pages in memory: tests and small databases. */
export class MemorySink implements PageSink {
  private readonly spans = new Map<number, Buffer>();
  private end = 0;
  constructor(readonly pageSize = 4096) {}

  write(pgid: number, span: Buffer): void {
    this.spans.set(pgid, span);
    this.end = Math.max(this.end, pgid * this.pageSize + span.length);
  }

  bytes(): Buffer {
    const out = Buffer.alloc(this.end);
    for (const [id, s] of this.spans) s.copy(out, id * this.pageSize);
    return out;
  }
}
