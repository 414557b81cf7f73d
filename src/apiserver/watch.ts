/**
 * ?watch=1: a stream of {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...} lines fed by
 * one etcd watch, as kube-apiserver's etcd3 watcher does:
 * - with resourceVersion N, events after N (etcd watch from N+1);
 * - without one (or "0"), synthetic ADDED events for the current objects first;
 * - selectors are applied to both the new and the previous object, so an object leaving the
 *   selection is a DELETED event and one entering it an ADDED event;
 * - a compacted N ends in an ERROR event carrying a 410 Expired Status. kube-apiserver (its watch
 *   cache) also answers HTTP 200 and sends the error as the first event, rather than a 410 response:
 *   client-go's reflector reads that event and relists. We do the same.
 */
import type { ServerResponse } from 'node:http';
import type { IEvent } from 'etcd3';
import type { KubeObject, Store } from '../storage/store.js';
import { toRaw } from '../storage/store.js';
import { watchPrefix, type EtcdWatch } from '../storage/watch.js';
import type { StorageError } from '../storage/errors.js';
import { apiVersionOf } from './resources.js';
import { ApiError, errors } from './status.js';
import { makeFilter, storageToApi, waitForRevision, wantsTable, type RequestScope } from './rest.js';
import { includeObject, listOptions, parseResourceVersion } from './options.js';
import { tableRow, type IncludeObject } from './table.js';

export interface WatchOptions {
  /** How often to ask etcd for progress when the client allows bookmarks. */
  bookmarkIntervalMs: number;
  /** Default watch timeout (kube: a random time between 30 and 60 minutes). */
  defaultTimeoutMs: number;
}

/** The longest timer Node keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * kube: timeoutSeconds when given (0: the server's default), so a negative one ends the watch at
 * once; here also bounded by what a timer can hold, where kube's time.Duration would overflow.
 */
export function watchTimeoutMs(timeoutSeconds: number | undefined, defaultMs: number): number {
  if (timeoutSeconds === undefined || timeoutSeconds === 0) return defaultMs;
  return Math.min(Math.max(timeoutSeconds * 1000, 0), MAX_TIMER_MS);
}

export interface OpenWatches {
  add(close: () => void): () => void;
}

export async function serveWatch(s: RequestScope, res: ServerResponse, store: Store, prefix: string, opts: WatchOptions, open: OpenWatches): Promise<void> {
  const { def } = s;
  const o = listOptions(s.query);
  const filter = makeFilter(def, o.labelSelector, o.fieldSelector);
  const rvParam = o.resourceVersion;
  const bookmarks = o.allowWatchBookmarks;
  const sendInitial = o.sendInitialEvents === true;
  const initial = rvParam === '' || rvParam === '0' || sendInitial;
  // A resourceVersion etcd has not reached: kube's watch cache waits up to 3 s, then answers 504.
  if (!initial) await waitForRevision(store, parseResourceVersion(rvParam));
  const timeoutMs = watchTimeoutMs(o.timeoutSeconds, opts.defaultTimeoutMs);
  const table = wantsTable(s.req.headers.accept);
  const include: IncludeObject = includeObject(s.query);
  let headersSent = false;

  let listed: { objs: KubeObject[]; revision: number } | undefined;
  if (initial) {
    // The list happens before any byte is written, so its failures are plain error responses.
    try {
      const page = await store.list(prefix, def.groupResource, { filter });
      listed = { objs: page.items.map((d) => d.obj), revision: page.revision };
    } catch (err) {
      throw storageToApi(err, def);
    }
  }

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();
  headersSent = true;
  const write = (type: string, object: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    let obj = object;
    if (table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
      const o = object as KubeObject;
      obj = {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: o.metadata.resourceVersion },
        // kubectl matches cells to the column definitions of each event: send them every time.
        columnDefinitions: def.table.columns,
        rows: [tableRow(def.table, o, include, Date.now())],
      };
    }
    res.write(`${JSON.stringify({ type, object: obj })}\n`);
  };
  const bookmark = (rv: number, annotations?: Record<string, string>) =>
    write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) } });
  const errorEvent = (e: ApiError) => write('ERROR', e.toStatus());

  let watch: EtcdWatch | undefined;
  let done = false;
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (done) return;
    done = true;
    watch?.close();
    for (const t of timers) clearTimeout(t), clearInterval(t);
    unregister();
    if (!res.writableEnded) res.end();
  };
  const unregister = open.add(finish);
  s.req.on('close', finish);
  res.on('close', finish);

  let startRev: number;
  if (listed) {
    for (const o of listed.objs) write('ADDED', o);
    if (sendInitial && bookmarks) bookmark(listed.revision, { 'k8s.io/initial-events-end': 'true' });
    startRev = listed.revision + 1;
  } else {
    startRev = Number(rvParam) + 1;
  }
  timers.push(setTimeout(finish, timeoutMs));

  const decode = (kv: IEvent['kv']) => store.decode(toRaw(kv), def.groupResource);
  try {
    watch = await watchPrefix(store.client, prefix, startRev, {
      onEvents(events: IEvent[]) {
        for (const ev of events) {
          try {
            if (ev.type === 'Delete') {
              if (!ev.prev_kv) continue;
              const prev = decode(ev.prev_kv).obj;
              prev.metadata.resourceVersion = String(ev.kv.mod_revision);
              if (filter({ obj: prev } as never)) write('DELETED', prev);
              continue;
            }
            const cur = decode(ev.kv);
            const curMatch = filter(cur);
            if (ev.kv.create_revision === ev.kv.mod_revision || !ev.prev_kv) {
              if (curMatch) write(ev.kv.create_revision === ev.kv.mod_revision ? 'ADDED' : 'MODIFIED', cur.obj);
              continue;
            }
            let prevMatch = false;
            try {
              prevMatch = filter(decode(ev.prev_kv));
            } catch {
              prevMatch = curMatch; // an undecryptable previous value: judge by the new one
            }
            if (curMatch && prevMatch) write('MODIFIED', cur.obj);
            else if (curMatch) write('ADDED', cur.obj);
            else if (prevMatch) write('DELETED', cur.obj);
          } catch (err) {
            const e = storageToApi(err, def);
            errorEvent(e instanceof ApiError ? e : errors.internal((err as Error).message));
          }
        }
      },
      onProgress(rev) {
        if (bookmarks) bookmark(rev);
      },
      onCompacted(compactRev) {
        errorEvent(errors.gone(`too old resource version: ${startRev - 1} (${compactRev - 1})`));
        finish();
      },
      onError(err: StorageError) {
        const e = storageToApi(err, def);
        errorEvent(e instanceof ApiError ? e : errors.internal(err.message));
        finish();
      },
    });
  } catch (err) {
    const e = storageToApi(err, def);
    if (!headersSent) throw e;
    errorEvent(e instanceof ApiError ? e : errors.internal((err as Error).message));
    finish();
    return;
  }
  if (done) {
    watch.close();
    return;
  }
  if (bookmarks) {
    const t = setInterval(() => watch?.requestProgress(), opts.bookmarkIntervalMs);
    timers.push(t);
  }
}
