/**
 * The two wire formats the snapshot stream needs, without a gRPC library: gRPC's message framing
 * (1 byte compressed flag, 4 bytes big-endian length, message) and the three fields of etcd's
 * SnapshotResponse (header 1, remaining_bytes 2, blob 3). Pure: bytes in, messages out.
 */

/** etcd sends 32 KiB blobs; anything near this is not an etcd snapshot stream. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export class GrpcFrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  /** Feeds bytes off the wire; returns the messages they complete, in order. */
  push(data: Buffer): Buffer[] {
    if (data.length === 0) return [];
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 5) break;
        const head = this.take(5);
        if (head[0] !== 0) throw new Error(`the server sent a compressed gRPC message (flag ${head[0]}), which was not asked for`);
        const len = head.readUInt32BE(1);
        if (len > MAX_MESSAGE_BYTES) throw new Error(`the server sent a gRPC message of ${len} bytes (limit ${MAX_MESSAGE_BYTES}): not an etcd snapshot stream`);
        this.need = len;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  /** Bytes received that do not yet make a whole message: non-zero at the end means a cut stream. */
  get pending(): number {
    return this.buffered;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      // The common case, no copy: the message sits inside one chunk off the wire.
      const part = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return part;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

/** One gRPC message with an empty protobuf body: the SnapshotRequest. */
export const EMPTY_REQUEST = Buffer.from([0, 0, 0, 0, 0]);

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

export interface SnapshotResponse {
  header?: ResponseHeader;
  /** Blob bytes still to come after this message. */
  remainingBytes: bigint;
  blob: Buffer;
}

export function decodeSnapshotResponse(msg: Buffer): SnapshotResponse {
  const r = new Reader(msg, 'SnapshotResponse');
  let header: ResponseHeader | undefined;
  let remainingBytes = 0n;
  let blob: Buffer = EMPTY;
  while (!r.done()) {
    const tag = r.varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 1 && wire === 2) header = decodeHeader(r.bytes());
    else if (field === 2 && wire === 0) remainingBytes = r.varint();
    else if (field === 3 && wire === 2) blob = r.bytes();
    else r.skip(wire);
  }
  return { header, remainingBytes, blob };
}

const EMPTY = Buffer.alloc(0);

function decodeHeader(buf: Buffer): ResponseHeader {
  const r = new Reader(buf, 'ResponseHeader');
  const h: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
  while (!r.done()) {
    const tag = r.varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire !== 0) {
      r.skip(wire);
      continue;
    }
    const v = r.varint();
    if (field === 1) h.clusterId = v;
    else if (field === 2) h.memberId = v;
    else if (field === 3) h.revision = v;
    else if (field === 4) h.raftTerm = v;
  }
  return h;
}

class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw this.fail('a varint runs past the end');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v & 0xffffffffffffffffn;
    }
    throw this.fail('a varint is longer than 10 bytes');
  }

  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw this.fail(`a field of ${len} bytes runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 2) this.bytes();
    else if (wire === 1) this.advance(8);
    else if (wire === 5) this.advance(4);
    else throw this.fail(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw this.fail('a field runs past the end');
    this.pos += n;
  }

  private fail(why: string): Error {
    return new Error(`malformed ${this.what} from the server: ${why}`);
  }
}
