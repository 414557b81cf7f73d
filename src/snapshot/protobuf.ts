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

/**
 * A minimal protobuf reader for KeyValue (fields key 1, create_revision 2, mod_revision 3,
 * version 4, value 5, lease 6). Unknown fields are skipped by wire type, as proto3 does.
 * Every length is checked against the bytes left; varints are at most 10 bytes.
 */
export function decodeKeyValue(buf: Uint8Array, where = 'value'): KeyValue {
  const kv: KeyValue = { key: EMPTY, createRevision: 0n, modRevision: 0n, version: 0n, value: EMPTY, lease: 0n };
  const r = new ProtoReader(buf, where);
  while (!r.done()) {
    const tag = r.varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw r.fail('field number 0');
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
  const r = new ProtoReader(buf, where);
  let key: Uint8Array = EMPTY;
  while (!r.done()) {
    const tag = r.varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw r.fail('field number 0');
    if (field === 1) {
      if (wire !== 2) throw r.fail(`field 1 has wire type ${wire}, want 2`);
      key = r.bytes();
    } else r.skip(wire);
  }
  return key;
}

export class ProtoReader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where: string,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  fail(what: string): SnapshotError {
    return new SnapshotError('etcd', `${this.where}: bad protobuf at byte ${this.pos}: ${what}`);
  }

  varint(): bigint {
    const { buf } = this;
    // Up to 7 bytes (49 bits) fit a double exactly; longer ones continue in bigint.
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw this.fail('varint runs past the end');
      const b = buf[this.pos++];
      if (i < 7) {
        n += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) return BigInt(n);
        if (i === 6) return this.varintTail(BigInt(n), 49n);
      }
    }
    throw this.fail('varint longer than 10 bytes');
  }

  private varintTail(acc: bigint, shift: bigint): bigint {
    const { buf } = this;
    for (let i = 7; i < 10; i++, shift += 7n) {
      if (this.pos >= buf.length) throw this.fail('varint runs past the end');
      const b = buf[this.pos++];
      if (i === 9 && b > 1) throw this.fail('varint overflows 64 bits');
      acc |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, acc);
    }
    throw this.fail('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const len = this.varint();
    const left = this.buf.length - this.pos;
    if (len > BigInt(left)) throw this.fail(`length ${len} runs past the end (${left} bytes left)`);
    const start = this.pos;
    this.pos += Number(len);
    return this.buf.subarray(start, this.pos);
  }

  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.fixed(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.fixed(4);
        return;
      default:
        throw this.fail(`unsupported wire type ${wire}`);
    }
  }

  private fixed(n: number): void {
    if (this.pos + n > this.buf.length) throw this.fail(`fixed${n * 8} runs past the end`);
    this.pos += n;
  }
}
