/**
 * bbolt page encoders: the write side of src/snapshot/layout.ts. Byte for byte what
 * go.etcd.io/bbolt (v1.3.x, as etcd 3.4 vendors it) writes on a little-endian machine:
 * node.write for leaf and branch pages, freelist.write, meta.write, Bucket.write for inline
 * buckets. Pure: buffers in, buffers out.
 */
import { fnv1a64 } from '../snapshot/fnv.js';
import { BUCKET_HEADER_SIZE, ELEMENT_SIZE, FLAG_BRANCH, FLAG_FREELIST, FLAG_LEAF, FLAG_META, LEAF_BUCKET, MAGIC, PAGE_HEADER_SIZE, VERSION } from '../snapshot/layout.js';

/** A leaf element: a key/value, or (bucket) a key whose value is a bucket header. */
export interface LeafItem {
  key: Uint8Array;
  value: Uint8Array;
  bucket?: boolean;
}

/** A branch element: the first key of a child page, and that page. */
export interface BranchItem {
  key: Uint8Array;
  pgid: number;
}

export const META_SIZE = 64; // magic..checksum

/** Bytes an item takes on a page: its element plus key and value (bbolt's inode size). */
export function leafItemSize(it: LeafItem): number {
  return ELEMENT_SIZE + it.key.length + it.value.length;
}

export function branchItemSize(it: BranchItem): number {
  return ELEMENT_SIZE + it.key.length;
}

/** Pages (1 + overflow) that `bytes` of page content need. */
export function pagesFor(bytes: number, pageSize: number): number {
  return Math.max(1, Math.ceil(bytes / pageSize));
}

function header(p: Buffer, off: number, pgid: number, flags: number, count: number, overflow: number): void {
  p.writeUInt32LE(pgid >>> 0, off);
  p.writeUInt32LE(Math.floor(pgid / 0x100000000), off + 4);
  p.writeUInt16LE(flags, off + 8);
  p.writeUInt16LE(count, off + 10);
  p.writeUInt32LE(overflow, off + 12);
}

function checkCount(n: number): void {
  // bbolt panics on 0xFFFF or more inodes in one node.
  if (n >= 0xffff) throw new Error(`internal: ${n} elements on one bbolt page`);
}

/**
 * Writes a leaf page at `p[off]`: header, elements, then each key followed by its value, in
 * element order. `pos` is relative to the element's own address. Returns the bytes used.
 */
export function writeLeaf(p: Buffer, off: number, pgid: number, items: readonly LeafItem[], overflow: number): number {
  checkCount(items.length);
  header(p, off, pgid, FLAG_LEAF, items.length, overflow);
  let at = off + PAGE_HEADER_SIZE + items.length * ELEMENT_SIZE;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const e = off + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    p.writeUInt32LE(it.bucket ? LEAF_BUCKET : 0, e);
    p.writeUInt32LE(at - e, e + 4);
    p.writeUInt32LE(it.key.length, e + 8);
    p.writeUInt32LE(it.value.length, e + 12);
    p.set(it.key, at);
    at += it.key.length;
    p.set(it.value, at);
    at += it.value.length;
  }
  return at - off;
}

/** Writes a branch page at `p[off]`; returns the bytes used. */
export function writeBranch(p: Buffer, off: number, pgid: number, items: readonly BranchItem[], overflow: number): number {
  checkCount(items.length);
  header(p, off, pgid, FLAG_BRANCH, items.length, overflow);
  let at = off + PAGE_HEADER_SIZE + items.length * ELEMENT_SIZE;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const e = off + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    p.writeUInt32LE(at - e, e);
    p.writeUInt32LE(it.key.length, e + 4);
    p.writeUInt32LE(it.pgid >>> 0, e + 8);
    p.writeUInt32LE(Math.floor(it.pgid / 0x100000000), e + 12);
    p.set(it.key, at);
    at += it.key.length;
  }
  return at - off;
}

/** A whole leaf page span (page + overflow, zero-filled), as bbolt allocates it. */
export function leafPage(pgid: number, items: readonly LeafItem[], pageSize: number): Buffer {
  const size = PAGE_HEADER_SIZE + items.reduce((n, it) => n + leafItemSize(it), 0);
  const n = pagesFor(size, pageSize);
  const p = Buffer.alloc(n * pageSize);
  writeLeaf(p, 0, pgid, items, n - 1);
  return p;
}

export function branchPage(pgid: number, items: readonly BranchItem[], pageSize: number): Buffer {
  const size = PAGE_HEADER_SIZE + items.reduce((n, it) => n + branchItemSize(it), 0);
  const n = pagesFor(size, pageSize);
  const p = Buffer.alloc(n * pageSize);
  writeBranch(p, 0, pgid, items, n - 1);
  return p;
}

/**
 * A bucket's value in its parent: {root u64, sequence u64}, then, for an inline bucket
 * (root 0), a leaf page with id 0 and no overflow holding its items (Bucket.write).
 */
export function bucketValue(root: number, sequence: bigint, inline?: readonly LeafItem[]): Buffer {
  const pageBytes = inline ? PAGE_HEADER_SIZE + inline.reduce((n, it) => n + leafItemSize(it), 0) : 0;
  const v = Buffer.alloc(BUCKET_HEADER_SIZE + pageBytes);
  v.writeUInt32LE(root >>> 0, 0);
  v.writeUInt32LE(Math.floor(root / 0x100000000), 4);
  v.writeBigUInt64LE(BigInt.asUintN(64, sequence), 8);
  if (inline) writeLeaf(v, BUCKET_HEADER_SIZE, 0, inline, 0);
  return v;
}

/** A freelist page listing `free` page ids (sorted), with bbolt's 0xFFFF count escape. */
export function freelistPage(pgid: number, free: readonly number[], pageSize: number): Buffer {
  const escape = free.length >= 0xffff;
  const size = PAGE_HEADER_SIZE + (escape ? 8 : 0) + free.length * 8;
  const n = pagesFor(size, pageSize);
  const p = Buffer.alloc(n * pageSize);
  header(p, 0, pgid, FLAG_FREELIST, escape ? 0xffff : free.length, n - 1);
  let at = PAGE_HEADER_SIZE;
  if (escape) {
    p.writeBigUInt64LE(BigInt(free.length), at);
    at += 8;
  }
  for (const id of free) {
    p.writeBigUInt64LE(BigInt(id), at);
    at += 8;
  }
  return p;
}

export interface MetaFields {
  pageSize: number;
  root: number;
  rootSequence: bigint;
  freelist: number;
  /** High-water mark: pages [0, pgid) exist. */
  pgid: number;
  txid: bigint;
}

/** Meta page `index` (0 or 1), with its FNV-1a 64 checksum over the 56 bytes before it. */
export function metaPage(index: 0 | 1, m: MetaFields): Buffer {
  const p = Buffer.alloc(m.pageSize);
  header(p, 0, index, FLAG_META, 0, 0);
  const b = PAGE_HEADER_SIZE;
  p.writeUInt32LE(MAGIC, b);
  p.writeUInt32LE(VERSION, b + 4);
  p.writeUInt32LE(m.pageSize, b + 8);
  p.writeUInt32LE(0, b + 12); // flags
  p.writeBigUInt64LE(BigInt(m.root), b + 16);
  p.writeBigUInt64LE(BigInt.asUintN(64, m.rootSequence), b + 24);
  p.writeBigUInt64LE(BigInt(m.freelist), b + 32);
  p.writeBigUInt64LE(BigInt(m.pgid), b + 40);
  p.writeBigUInt64LE(BigInt.asUintN(64, m.txid), b + 48);
  p.writeBigUInt64LE(fnv1a64(p, b, b + 56), b + 56);
  return p;
}
