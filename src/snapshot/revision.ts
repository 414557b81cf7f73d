/**
 * Keys of etcd's `key` bucket: 8-byte big-endian main revision, '_', 8-byte big-endian sub
 * revision, and a trailing 't' on tombstones (etcd mvcc/revision.go). Byte order of these keys
 * is revision order, which is how bbolt sorts them.
 */
export interface Revision {
  main: bigint;
  sub: bigint;
}

export interface RevisionKey extends Revision {
  tombstone: boolean;
}

export const REV_BYTES = 17;
export const MARKED_REV_BYTES = 18;

/** Parses a `key` bucket key; returns a reason string when it is not one. */
export function parseRevisionKey(k: Uint8Array): RevisionKey | string {
  if (k.length !== REV_BYTES && k.length !== MARKED_REV_BYTES) return `revision key is ${k.length} bytes, want 17 or 18`;
  if (k[8] !== 0x5f) return `revision key has 0x${k[8].toString(16)} at byte 8, want '_'`;
  if (k.length === MARKED_REV_BYTES && k[17] !== 0x74) return `revision key mark is 0x${k[17].toString(16)}, want 't' (tombstone)`;
  const dv = new DataView(k.buffer, k.byteOffset, k.length);
  return { main: dv.getBigInt64(0), sub: dv.getBigInt64(9), tombstone: k.length === MARKED_REV_BYTES };
}

export function revisionKey(rev: Revision, tombstone = false): Buffer {
  const b = Buffer.alloc(tombstone ? MARKED_REV_BYTES : REV_BYTES);
  b.writeBigUInt64BE(BigInt.asUintN(64, rev.main), 0);
  b[8] = 0x5f;
  b.writeBigUInt64BE(BigInt.asUintN(64, rev.sub), 9);
  if (tombstone) b[17] = 0x74;
  return b;
}

export function compareRevision(a: Revision, b: Revision): number {
  return a.main < b.main ? -1 : a.main > b.main ? 1 : a.sub < b.sub ? -1 : a.sub > b.sub ? 1 : 0;
}
