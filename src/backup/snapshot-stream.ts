import http2 from 'node:http2';
import type { Connection } from '../etcd/connection.js';
import { describeEtcdError } from '../etcd/connection.js';
import { UserError } from '../util/errors.js';
import { version } from '../version.js';
import { EMPTY_REQUEST, GrpcFrameReader, decodeSnapshotResponse, type ResponseHeader } from './grpc-frames.js';

/**
 * etcd's Maintenance.Snapshot over plain HTTP/2: the member streams its bbolt database in
 * 32 KiB blobs and, as the last blob, the SHA-256 of those bytes (the trailer `etcdctl snapshot
 * save` files end with). We speak the few bytes of gRPC this needs ourselves: the general
 * gRPC client decodes every blob through protobufjs and costs about twice the CPU per byte,
 * which on a busy control-plane host is CPU the member itself needs to send the snapshot.
 */

export interface StreamStart {
  /** Bytes the whole stream will carry (database plus the 32-byte hash), from the first message. */
  expectedBytes: number;
  header?: ResponseHeader;
}

export interface SnapshotStreamOptions {
  endpoint: string;
  conn: Pick<Connection, 'tls' | 'dialTimeoutMs' | 'commandTimeoutMs'>;
  /** Fails the stream when the member sends nothing for this long (default 60 s). */
  idleTimeoutMs?: number;
  onStart?: (s: StreamStart) => void;
}

const SNAPSHOT_PATH = '/etcdserverpb.Maintenance/Snapshot';
// Large windows let the member send ahead while we write; flow control still bounds memory.
const WINDOW = 8 * 1024 * 1024;

/** Yields the snapshot bytes as they arrive; throws a one-line UserError on any failure. */
export async function* snapshotStream(o: SnapshotStreamOptions): AsyncGenerator<Buffer> {
  const session = await connect(o);
  let received = 0;
  try {
    const req = session.request(
      { ':method': 'POST', ':path': SNAPSHOT_PATH, 'content-type': 'application/grpc', te: 'trailers', 'user-agent': `etcd-ops/${version}` },
      { endStream: false },
    );
    session.on('error', (err) => req.destroy(err));
    let status: { code: string; message: string } | undefined;
    const takeStatus = (h: http2.IncomingHttpHeaders) => {
      const code = h['grpc-status'];
      if (code !== undefined) status = { code: String(code), message: decodeGrpcMessage(String(h['grpc-message'] ?? '')) };
    };
    req.on('response', (h) => {
      const httpStatus = Number(h[':status']);
      if (httpStatus !== 200) req.destroy(new Error(`the server answered HTTP ${httpStatus}, not gRPC: is ${o.endpoint} an etcd client URL?`));
      takeStatus(h);
    });
    req.on('trailers', takeStatus);
    req.setTimeout(o.idleTimeoutMs ?? 60_000, () => req.destroy(new Error(`no data for ${Math.round((o.idleTimeoutMs ?? 60_000) / 1000)}s`)));
    req.end(EMPTY_REQUEST);

    const frames = new GrpcFrameReader();
    let started = false;
    try {
      for await (const data of req as AsyncIterable<Buffer>) {
        for (const msg of frames.push(data)) {
          const r = decodeSnapshotResponse(msg);
          if (!started) {
            started = true;
            o.onStart?.({ expectedBytes: Number(r.remainingBytes) + r.blob.length + 32, header: r.header });
          }
          if (r.blob.length) {
            received += r.blob.length;
            yield r.blob;
          }
        }
      }
    } catch (err) {
      throw fail(o, received, err);
    }
    if (status && status.code !== '0') throw fail(o, received, new Error(status.message || `gRPC status ${status.code}`));
    if (!status) throw fail(o, received, new Error('the stream ended without a gRPC status'));
    if (frames.pending) throw fail(o, received, new Error(`the stream ended inside a message (${frames.pending} bytes left over)`));
  } finally {
    session.destroy();
  }
}

function connect(o: SnapshotStreamOptions): Promise<http2.ClientHttp2Session> {
  const tls = o.conn.tls;
  const options: http2.SecureClientSessionOptions = { settings: { initialWindowSize: WINDOW } };
  if (o.endpoint.startsWith('https:')) {
    if (tls?.ca) options.ca = tls.ca;
    if (tls?.cert) options.cert = tls.cert;
    if (tls?.key) options.key = tls.key;
  }
  return new Promise((resolve, reject) => {
    const session = http2.connect(o.endpoint, options);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new UserError(`cannot take a snapshot from ${o.endpoint}: no connection within --dial-timeout ${o.conn.dialTimeoutMs / 1000}s`));
    }, o.conn.dialTimeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      session.setLocalWindowSize(WINDOW * 4);
      resolve(session);
    });
    session.once('error', (err) => {
      clearTimeout(timer);
      session.destroy();
      reject(new UserError(`cannot take a snapshot from ${o.endpoint}: ${describeEtcdError(err, { ...o.conn, endpoints: [o.endpoint] })}`));
    });
  });
}

function fail(o: SnapshotStreamOptions, received: number, err: unknown): UserError {
  if (err instanceof UserError) return err;
  const why = describeEtcdError(err, { ...o.conn, endpoints: [o.endpoint] });
  return new UserError(`the snapshot stream from ${o.endpoint} failed after ${received} bytes: ${why}`);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2 spec). */
function decodeGrpcMessage(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
