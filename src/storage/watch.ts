/**
 * One etcd watch on the raw gRPC stream. The etcd3 library's Watcher hides the compact revision
 * of a compacted watch (it only says "Watcher canceled"); the API server needs it for the
 * `too old resource version: X (Y)` error, so it talks to the Watch service directly.
 */
import type { Etcd3, IWatchResponse, IEvent } from 'etcd3';
import { prefixRangeEnd } from './keys.js';
import { StorageError, fromEtcdError } from './errors.js';

export interface WatchHandlers {
  /** Events of one revision batch, in order. `revision` is the header revision of the response. */
  onEvents(events: IEvent[], revision: number): void;
  /** A progress notification: every event up to `revision` has been delivered. */
  onProgress?(revision: number): void;
  /** The start revision is older than the compaction; the watch is over. */
  onCompacted(compactRevision: number): void;
  /** The watch failed (etcd gone, canceled); it is over. */
  onError(err: StorageError): void;
}

export interface EtcdWatch {
  close(): void;
  /** Asks etcd for a progress notification (etcd >= 3.4), used for BOOKMARK events. */
  requestProgress(): void;
}

export async function watchPrefix(client: Etcd3, prefix: string, startRevision: number, h: WatchHandlers): Promise<EtcdWatch> {
  let closed = false;
  let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>>;
  try {
    stream = await client.watchClient.watch();
  } catch (err) {
    throw fromEtcdError(err, prefix);
  }
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      stream.cancel();
    } catch {}
  };
  stream.on('data', (res: IWatchResponse & { compact_revision?: string; cancel_reason?: string }) => {
    if (closed) return;
    const compact = Number(res.compact_revision ?? 0);
    if (compact > 0) {
      close();
      h.onCompacted(compact);
      return;
    }
    if (res.canceled) {
      close();
      h.onError(new StorageError('Unavailable', `etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`, prefix));
      return;
    }
    if (res.created) return;
    const rev = Number(res.header?.revision ?? 0);
    if (res.events.length === 0) h.onProgress?.(rev);
    else h.onEvents(res.events, rev);
  });
  stream.on('error', (err: Error) => {
    if (closed) return;
    close();
    h.onError(fromEtcdError(err, prefix));
  });
  stream.on('end', () => {
    if (closed) return;
    close();
    h.onError(new StorageError('Unavailable', 'etcd ended the watch stream', prefix));
  });
  const key = Buffer.from(prefix);
  stream.write({ create_request: { key, range_end: prefixRangeEnd(key), start_revision: startRevision, prev_kv: true, progress_notify: true } });
  return {
    close,
    requestProgress: () => {
      if (!closed) stream.write({ progress_request: {} });
    },
  };
}
