import type { Etcd3 } from 'etcd3';
import type { TransformerForResource } from '../encryption/transformer.js';
import { fromEtcdError, StorageError } from './errors.js';
import { prefixRangeEnd } from './keys.js';
import type { RawKV } from './store.js';
import { toRaw } from './store.js';

/** etcd refuses transactions of more than --max-txn-ops (128) operations. */
const MAX_TXN_OPS = 128;

export interface RewriteResult {
  /** Values that were stale and now carry the current write key. */
  rewritten: number;
  /** Values already written with the current write key. */
  fresh: number;
  /** Values that changed or vanished under us: someone else wrote them, so nothing to do. */
  raced: number;
}

/**
 * The storage layer's no-op update, in bulk: each stale value (read by anything but the first
 * transformer and key) is re-encrypted from its own plaintext bytes and written back with a
 * compare-and-swap on its mod revision, many keys to a transaction. A value that changed since we
 * read it was written by an API server with the current write key already: not a failure.
 */
export async function rewriteStale(client: Etcd3, transformers: TransformerForResource, gr: string, kvs: RawKV[], deadlineMs: number): Promise<RewriteResult> {
  const t = transformers(gr);
  const result: RewriteResult = { rewritten: 0, fresh: 0, raced: 0 };
  const writes: Array<{ kv: RawKV; value: Buffer }> = [];
  for (const kv of kvs) {
    let plain: Buffer;
    let stale: boolean;
    try {
      ({ data: plain, stale } = t.fromStorage(kv.value, { key: kv.key }));
    } catch (err) {
      const named = typeof (err as { etcdKey?: unknown }).etcdKey === 'string';
      throw new StorageError('Transform', named ? (err as Error).message : `unable to transform key "${kv.key}": ${(err as Error).message}`, kv.key);
    }
    if (!stale) {
      result.fresh++;
      continue;
    }
    writes.push({ kv, value: t.toStorage(plain, { key: kv.key }) });
  }
  const batches: Array<typeof writes> = [];
  for (let i = 0; i < writes.length; i += MAX_TXN_OPS) batches.push(writes.slice(i, i + MAX_TXN_OPS));
  await Promise.all(
    batches.map(async (batch) => {
      if (await casPuts(client, batch, deadlineMs)) {
        result.rewritten += batch.length;
        return;
      }
      // One key raced: retry one by one, so the others still get rewritten.
      for (const w of batch) {
        if (await casPuts(client, [w], deadlineMs)) result.rewritten++;
        else result.raced++;
      }
    }),
  );
  return result;
}

async function casPuts(client: Etcd3, batch: Array<{ kv: RawKV; value: Buffer }>, deadlineMs: number): Promise<boolean> {
  try {
    const keys = batch.map(({ kv }) => Buffer.from(kv.key));
    const r = await client.kv.txn(
      {
        compare: batch.map(({ kv }, i) => ({ key: keys[i]!, target: 'Mod' as const, result: 'Equal' as const, mod_revision: kv.modRevision })),
        success: batch.map(({ value }, i) => ({ request_put: { key: keys[i]!, value } })),
        failure: [],
      },
      { deadline: Date.now() + deadlineMs },
    );
    return r.succeeded;
  } catch (err) {
    throw fromEtcdError(err, batch[0]?.kv.key);
  }
}

/**
 * One page of a prefix in key order, from `startKey` (inclusive), at the current revision. A page
 * of large values can exceed gRPC's message limit: the page then halves until it fits.
 */
export async function readPage(client: Etcd3, prefix: string, startKey: string, limit: number, deadlineMs: number): Promise<{ kvs: RawKV[]; more: boolean }> {
  for (let n = limit; ; n = Math.max(1, Math.floor(n / 2))) {
    try {
      const r = await client.kv.range(
        { key: Buffer.from(startKey), range_end: prefixRangeEnd(Buffer.from(prefix)), limit: n },
        { deadline: Date.now() + deadlineMs },
      );
      return { kvs: r.kvs.map(toRaw), more: r.more };
    } catch (err) {
      const tooBig = /RESOURCE_EXHAUSTED|larger than max/.test(String((err as Error).message));
      if (!tooBig || n === 1) throw fromEtcdError(err, startKey);
    }
  }
}
