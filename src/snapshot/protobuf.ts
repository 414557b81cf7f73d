import { WireReader } from '../util/protowire.js';
import { SnapshotError } from './errors.js';

/**
 * etcd's mvccpb.KeyValue. The 64-bit integers are bigint: lease IDs use all 64 bits.
 * Buffers are copies, owned by the caller.
 */
export interface KeyValue {
  key: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}

const EMPTY = Buffer.alloc(0);

/** Damage reads as a snapshot error naming where the value came from. */
const reader = (buf: Uint8Array, where: string) => new WireReader(buf, (what, pos) => new SnapshotError('etcd', `${where}: bad protobuf at byte ${pos}: ${what}`));

/**
 * A minimal protobuf reader for KeyValue (fields key 1, create_revision 2, mod_revision 3,
 * version 4, value 5, lease 6). Unknown fields are skipped by wire type, as proto3 does.
 * Every length is checked against the bytes left; varints are at most 10 bytes.
 */
export function decodeKeyValue(buf: Uint8Array, where = 'value'): KeyValue {
  const kv: KeyValue = { key: EMPTY, createRevision: 0n, modRevision: 0n, version: 0n, value: EMPTY, lease: 0n };
  const r = reader(buf, where);
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    const want = field === 1 || field === 5 ? 2 : field >= 2 && field <= 6 ? 0 : -1;
    if (want >= 0 && wire !== want) throw r.fail(`field ${field} has wire type ${wire}, want ${want}`);
    switch (field) {
      case 1:
        kv.key = Buffer.from(r.bytes());
        break;
      case 2:
        kv.createRevision = BigInt.asIntN(64, r.varint());
        break;
      case 3:
        kv.modRevision = BigInt.asIntN(64, r.varint());
        break;
      case 4:
        kv.version = BigInt.asIntN(64, r.varint());
        break;
      case 5:
        kv.value = Buffer.from(r.bytes());
        break;
      case 6:
        kv.lease = BigInt.asIntN(64, r.varint());
        break;
      default:
        r.skip(wire);
    }
  }
  return kv;
}

/** Just field 1 (the etcd key), without copying: for scans that only need to know the key. */
export function peekKey(buf: Uint8Array, where = 'value'): Uint8Array {
  const r = reader(buf, where);
  let key: Uint8Array = EMPTY;
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      if (wire !== 2) throw r.fail(`field 1 has wire type ${wire}, want 2`);
      key = r.bytes();
    } else r.skip(wire);
  }
  return key;
}
