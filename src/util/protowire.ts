/**
 * The protobuf wire format, read: varints, length-delimited fields, skipping by wire type. One
 * reader for every message etcd-ops decodes by hand (etcd's mvccpb.KeyValue in snapshots, the
 * snapshot stream's SnapshotResponse, Kubernetes' protobuf request bodies). Every length is
 * checked against the bytes left and varints are at most 10 bytes, so hostile input ends in an
 * error from `fail`, never an out-of-bounds read. Callers say how a failure reads.
 */
export type WireFailure = (what: string, pos: number) => Error;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

const defaultFailure: WireFailure = (what, pos) => new Error(`bad protobuf at byte ${pos}: ${what}`);

export class WireReader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly onFail: WireFailure = defaultFailure,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  fail(what: string): Error {
    return this.onFail(what, this.pos);
  }

  /**
   * A field's tag: `tag >>> 3` is its number, `tag & 7` its wire type. Field number 0 is never
   * valid, nor are numbers past 2^29 - 1, protobuf's limit.
   */
  tag(): number {
    const t = this.varint();
    if (t >> 3n === 0n) throw this.fail('field number 0');
    if (t > 0xffffffffn) throw this.fail(`field number ${t >> 3n} is too large`);
    return Number(t);
  }

  /** An unsigned 64-bit varint. */
  varint(): bigint {
    const { buf } = this;
    // Up to 7 bytes (49 bits) fit a double exactly; longer ones continue in bigint.
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= buf.length) throw this.fail('varint runs past the end');
      const b = buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return BigInt(n);
    }
    return this.varintTail(BigInt(n), 49n);
  }

  /** A varint as a number: exact up to 2^53, enough for lengths, counts and timestamps. */
  uint(): number {
    return Number(this.varint());
  }

  private varintTail(acc: bigint, shift: bigint): bigint {
    const { buf } = this;
    for (let i = 7; i < 10; i++, shift += 7n) {
      if (this.pos >= buf.length) throw this.fail('varint runs past the end');
      const b = buf[this.pos++]!;
      if (i === 9 && b > 1) throw this.fail('varint overflows 64 bits');
      acc |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, acc);
    }
    throw this.fail('varint longer than 10 bytes');
  }

  /** A length-delimited field's bytes, without copying. */
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
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.fixed(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
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
