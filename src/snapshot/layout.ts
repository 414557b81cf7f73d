/** bbolt's on-disk constants (go.etcd.io/bbolt page.go, db.go, bucket.go). */
export const PAGE_HEADER_SIZE = 16;
export const ELEMENT_SIZE = 16; // leaf and branch elements are both 16 bytes
export const BUCKET_HEADER_SIZE = 16; // {root u64, sequence u64}

export const FLAG_BRANCH = 0x01;
export const FLAG_LEAF = 0x02;
export const FLAG_META = 0x04;
export const FLAG_FREELIST = 0x10;
export const LEAF_BUCKET = 0x01; // leaf element flag: the value is a nested bucket

export const MAGIC = 0xed0cdaed;
export const VERSION = 2;
/** meta.freelist when the freelist is not persisted (NoFreelistSync). */
export const PGID_NO_FREELIST = 0xffffffffffffffffn;

export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 64 * 1024;

/**
 * A u64 as a JS number, or Infinity when it cannot be a page id/size here (>= 2^53).
 * Page ids are compared against the high-water mark, so Infinity simply fails the check.
 */
export function u64(buf: Uint8Array, off: number): number {
  const lo = buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24);
  const hi = buf[off + 4] | (buf[off + 5] << 8) | (buf[off + 6] << 16) | (buf[off + 7] << 24);
  if (hi >>> 0 > 0x1fffff) return Infinity;
  return (hi >>> 0) * 0x100000000 + (lo >>> 0);
}

export function u32(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

export function u16(buf: Uint8Array, off: number): number {
  return buf[off] | (buf[off + 1] << 8);
}

export function u64big(buf: Uint8Array, off: number): bigint {
  return (BigInt(u32(buf, off + 4)) << 32n) | BigInt(u32(buf, off));
}
