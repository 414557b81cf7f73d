/**
 * The two wire formats the snapshot stream needs, without a gRPC library: gRPC's message framing
 * (1 byte compressed flag, 4 bytes big-endian length, message) and the three fields of etcd's
 * SnapshotResponse (header 1, remaining_bytes 2, blob 3). Pure: bytes in, messages out.
 */

import { WIRE_BYTES, WIRE_VARINT, WireReader } from '../util/protowire.js';

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

/** A malformed message is the server's fault: say which message and what is wrong with it. */
const reader = (buf: Uint8Array, what: string) => new WireReader(buf, (why) => new Error(`malformed ${what} from the server: ${why}`));
/** A Buffer over the same bytes, no copy. */
const view = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export function decodeSnapshotResponse(msg: Buffer): SnapshotResponse {
  const r = reader(msg, 'SnapshotResponse');
  let header: ResponseHeader | undefined;
  let remainingBytes = 0n;
  let blob: Buffer = EMPTY;
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_BYTES) header = decodeHeader(r.bytes());
    else if (field === 2 && wire === WIRE_VARINT) remainingBytes = r.varint();
    else if (field === 3 && wire === WIRE_BYTES) blob = view(r.bytes());
    else r.skip(wire);
  }
  return { header, remainingBytes, blob };
}

const EMPTY = Buffer.alloc(0);

function decodeHeader(buf: Uint8Array): ResponseHeader {
  const r = reader(buf, 'ResponseHeader');
  const h: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
  while (!r.done()) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== WIRE_VARINT) {
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
