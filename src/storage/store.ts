/**
 * The object store over etcd, after k8s.io/apiserver/pkg/storage/etcd3/store.go:
 * - values are JSON documents passed through the resource's Transformer (only values, never keys);
 * - metadata.resourceVersion is the key's mod_revision and is not stored in the value;
 * - create is "put if absent", update and delete are compare-and-swap on the mod revision;
 * - GuaranteedUpdate rewrites a stale value (read by a non-first transformer) even when the
 *   update changed nothing, and skips the write when the bytes are equal and not stale.
 */
import type { Etcd3, IKeyValue, IRangeResponse, ITxnResponse } from 'etcd3';
import type { Transformer, TransformerForResource } from '../encryption/transformer.js';
import { StorageError, fromEtcdError } from './errors.js';
import { prefixRangeEnd } from './keys.js';
import { CasWriter, RangeBatcher, TxnBatcher, batchTooBig, type CasPut } from './batch.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KubeObject = Record<string, any> & { metadata: Record<string, any> };

export interface RawKV {
  key: string;
  value: Buffer;
  modRevision: number;
  createRevision: number;
}

export interface Decoded {
  key: string;
  obj: KubeObject;
  modRevision: number;
  /** Read by a non-first transformer/key: the next update must rewrite it. */
  stale: boolean;
  /** The decrypted stored bytes (without resourceVersion), to tell no-op updates. */
  plain: Buffer;
}

/** Observes every value transform, for metrics: which provider, which direction, did it work. */
export type TransformObserver = (direction: 'from_storage' | 'to_storage', provider: string, ok: boolean) => void;

export interface StoreOptions {
  /** Deadline for each etcd call: a request never hangs on an unreachable etcd. */
  timeoutMs: number;
  onTransform?: TransformObserver;
  /** The client for writes, when it must differ from the one for reads (one that never resends). */
  writeClient?: Etcd3;
}

export type UpdateDecision = { action: 'update'; obj: KubeObject } | { action: 'delete' } | { action: 'keep' };

export interface ListPage {
  items: Decoded[];
  /** The revision the list was read at. */
  revision: number;
  /** Set when more keys remain: the key to continue from (inclusive). */
  nextKey?: string;
  /** Keys left after this page (only meaningful without a filter). */
  remaining?: number;
}

export interface RewriteResult {
  /** Values that were stale and now carry the current write key. */
  rewritten: number;
  /** Values already written with the current write key. */
  fresh: number;
  /** Values that changed or vanished under us: someone else wrote them, so nothing to do. */
  raced: number;
}

const ENC_PREFIX = /^k8s:enc:([a-z0-9]+):v1:/;

/** The provider a stored value carries, without decrypting: "aescbc", "identity" for plain data. */
export function providerOf(stored: Buffer): string {
  if (stored.length > 8 && stored[0] === 0x6b && stored.subarray(0, 8).toString() === 'k8s:enc:') {
    const m = ENC_PREFIX.exec(stored.subarray(0, 40).toString('latin1'));
    return m ? m[1]! : 'unknown';
  }
  return 'identity';
}

export class Store {
  /** Single-key reads issued together share one etcd call (see batch.ts). */
  private readonly reads: RangeBatcher;
  /** So do the single-object write transactions (group commit, see batch.ts). */
  private readonly writes: TxnBatcher;
  /** Bulk compare-and-swap puts, many keys to a transaction (see batch.ts). */
  private readonly bulk: CasWriter;

  constructor(
    readonly client: Etcd3,
    private readonly transformers: TransformerForResource,
    private readonly opts: StoreOptions,
  ) {
    this.reads = new RangeBatcher(client, () => this.callOpts());
    this.writes = new TxnBatcher(opts.writeClient ?? client, () => this.callOpts());
    this.bulk = new CasWriter(opts.writeClient ?? client, () => this.callOpts());
  }

  private callOpts() {
    return { deadline: Date.now() + this.opts.timeoutMs };
  }

  private transformer(gr: string): Transformer {
    return this.transformers(gr);
  }

  /** The current etcd revision (a cheap linearizable read of a single key). */
  async currentRevision(): Promise<number> {
    const r = await this.range({ key: Buffer.from('compact_rev_key'), count_only: true });
    return Number(r.header.revision);
  }

  async range(req: Parameters<Etcd3['kv']['range']>[0], key?: string): Promise<IRangeResponse> {
    try {
      return await this.client.kv.range(req, this.callOpts());
    } catch (err) {
      throw fromEtcdError(err, key);
    }
  }

  async txn(req: Parameters<Etcd3['kv']['txn']>[0], key?: string): Promise<ITxnResponse> {
    try {
      return await this.writes.txn(req);
    } catch (err) {
      throw fromEtcdError(err, key);
    }
  }

  async getRaw(key: string): Promise<RawKV | undefined> {
    let kv: IKeyValue | undefined;
    try {
      kv = await this.reads.get(Buffer.from(key));
    } catch (err) {
      throw fromEtcdError(err, key);
    }
    return kv ? toRaw(kv) : undefined;
  }

  /** Decrypts and parses one stored value. A failure names the etcd key and the reason, never key material. */
  decode(kv: RawKV, gr: string): Decoded {
    const { data, stale } = this.fromStorage(this.transformer(gr), kv);
    let obj: KubeObject;
    try {
      obj = JSON.parse(data.toString('utf8'));
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not a JSON object');
    } catch (err) {
      throw new StorageError('Transform', `unable to decode key "${kv.key}": ${(err as Error).message}`, kv.key);
    }
    obj.metadata ??= {};
    obj.metadata.resourceVersion = String(kv.modRevision);
    return { key: kv.key, obj, modRevision: kv.modRevision, stale, plain: data };
  }

  async get(key: string, gr: string): Promise<Decoded | undefined> {
    const kv = await this.getRaw(key);
    return kv ? this.decode(kv, gr) : undefined;
  }

  /**
   * One page of a prefix, at one revision. Items failing `filter` are skipped and the scan goes on
   * until `limit` items matched or the prefix ends, as kube's GetList does.
   * An item that cannot be decrypted fails the whole list, naming its key (kube-apiserver does the same).
   */
  async list(
    prefix: string,
    gr: string,
    opts: { revision?: number; limit?: number; startKey?: string; filter?: (d: Decoded) => boolean } = {},
  ): Promise<ListPage> {
    const end = prefixRangeEnd(Buffer.from(prefix));
    let start = Buffer.from(opts.startKey ?? prefix);
    let revision = opts.revision ?? 0;
    const items: Decoded[] = [];
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    for (;;) {
      // Ask for a little more than we need when filtering, as kube does (it doubles up to a cap).
      const batch = limit ? Math.max(limit - items.length, opts.filter ? Math.min(limit * 2, 10_000) : 0) : 0;
      const r = await this.range({ key: start, range_end: end, revision: revision || undefined, limit: batch || undefined }, prefix);
      if (!revision) revision = Number(r.header.revision);
      let lastKey: Buffer | undefined;
      for (const kv of r.kvs) {
        lastKey = kv.key;
        const d = this.decode(toRaw(kv), gr);
        if (opts.filter && !opts.filter(d)) continue;
        items.push(d);
        if (limit && items.length >= limit) {
          const next = Buffer.concat([kv.key, Buffer.from([0])]);
          const more = r.more || kv !== r.kvs[r.kvs.length - 1];
          if (!more) return { items, revision };
          const remaining = opts.filter ? undefined : await this.countFrom(next, end, revision);
          if (remaining === 0) return { items, revision };
          return { items, revision, nextKey: next.toString('utf8'), remaining };
        }
      }
      if (!r.more || !lastKey) return { items, revision };
      start = Buffer.concat([lastKey, Buffer.from([0])]);
    }
  }

  private async countFrom(start: Buffer, end: Buffer, revision: number): Promise<number> {
    const r = await this.range({ key: start, range_end: end, revision, count_only: true });
    return Number(r.count);
  }

  /** Raw keys and mod revisions under a prefix, without decoding (for deletes that must not decrypt). */
  async listRaw(prefix: string, keysOnly = true): Promise<RawKV[]> {
    const r = await this.range({ key: Buffer.from(prefix), range_end: prefixRangeEnd(Buffer.from(prefix)), keys_only: keysOnly }, prefix);
    return r.kvs.map(toRaw);
  }

  encode(obj: KubeObject): Buffer {
    // resourceVersion lives in etcd's mod_revision, not in the value (kube's PrepareObjectForStorage).
    const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
    return Buffer.from(`${JSON.stringify({ ...obj, metadata: meta })}\n`);
  }

  /** The plaintext of a stored value, counted in the metrics; a failure names the key, never key material. */
  private fromStorage(t: Transformer, kv: RawKV): { data: Buffer; stale: boolean } {
    const provider = providerOf(kv.value);
    try {
      const r = t.fromStorage(kv.value, { key: kv.key });
      this.opts.onTransform?.('from_storage', provider, true);
      return r;
    } catch (err) {
      this.opts.onTransform?.('from_storage', provider, false);
      // src/encryption's errors already name the key ("unable to decrypt key ..."); others get it added.
      const named = typeof (err as { etcdKey?: unknown }).etcdKey === 'string';
      throw new StorageError('Transform', named ? (err as Error).message : `unable to transform key "${kv.key}": ${(err as Error).message}`, kv.key);
    }
  }

  private toStorage(gr: string, key: string, plain: Buffer, t = this.transformer(gr)): Buffer {
    try {
      const out = t.toStorage(plain, { key });
      this.opts.onTransform?.('to_storage', providerOf(out), true);
      return out;
    } catch (err) {
      this.opts.onTransform?.('to_storage', 'unknown', false);
      const named = typeof (err as { etcdKey?: unknown }).etcdKey === 'string';
      throw new StorageError('Internal', named ? (err as Error).message : `unable to transform key "${key}" for storage: ${(err as Error).message}`, key);
    }
  }

  /**
   * Put if absent. Returns the stored object with its resourceVersion.
   * With a `guard`, the put also requires that key to still be at that mod revision (the namespace
   * the caller checked), in the same transaction: one etcd round trip instead of a read and a write.
   * A guard that no longer holds fails with PreconditionFailed carrying the guard's key.
   */
  async create(key: string, gr: string, obj: KubeObject, guard?: { key: string; modRevision: number }): Promise<Decoded> {
    const plain = this.encode(obj);
    const value = this.toStorage(gr, key, plain);
    const k = Buffer.from(key);
    const compare: NonNullable<Parameters<Etcd3['kv']['txn']>[0]['compare']> = [{ key: k, target: 'Mod', result: 'Equal', mod_revision: 0 }];
    const g = guard && Buffer.from(guard.key);
    if (g) compare.push({ key: g, target: 'Mod', result: 'Equal', mod_revision: guard!.modRevision });
    const r = await this.txn({ compare, success: [{ request_put: { key: k, value } }], failure: g ? [{ request_range: { key: g, keys_only: true } }] : [] }, key);
    if (!r.succeeded) {
      if (g) {
        const now = r.responses[0]?.response_range?.kvs[0];
        if (Number(now?.mod_revision ?? 0) !== guard!.modRevision) throw new StorageError('PreconditionFailed', `${guard!.key} changed`, guard!.key);
      }
      throw new StorageError('AlreadyExists', `key exists: ${key}`, key);
    }
    const rev = Number(r.header.revision);
    const out = JSON.parse(plain.toString('utf8')) as KubeObject;
    out.metadata.resourceVersion = String(rev);
    return { key, obj: out, modRevision: rev, stale: false, plain };
  }

  /**
   * Read-modify-write until the compare-and-swap wins (kube's GuaranteedUpdate). `tryUpdate` sees the
   * current object (undefined when absent) and decides; it throws to abort (conflict, validation).
   * Returns the object as stored, or undefined after a delete.
   */
  async guaranteedUpdate(
    key: string,
    gr: string,
    tryUpdate: (cur: Decoded | undefined) => Promise<UpdateDecision> | UpdateDecision,
  ): Promise<{ result: Decoded | undefined; wrote: boolean; deleted?: Decoded }> {
    const k = Buffer.from(key);
    for (let attempt = 0; attempt < 16; attempt++) {
      const raw = await this.getRaw(key);
      const cur = raw ? this.decode(raw, gr) : undefined;
      const decision = await tryUpdate(cur);
      const expect = raw?.modRevision ?? 0;
      const compare = [{ key: k, target: 'Mod' as const, result: 'Equal' as const, mod_revision: expect }];
      if (decision.action === 'keep') return { result: cur, wrote: false };
      if (decision.action === 'delete') {
        if (!raw) return { result: undefined, wrote: false };
        const r = await this.txn({ compare, success: [{ request_delete_range: { key: k } }], failure: [] }, key);
        if (!r.succeeded) continue;
        return { result: undefined, wrote: true, deleted: cur };
      }
      const plain = this.encode(decision.obj);
      if (cur && !cur.stale && plain.equals(cur.plain)) return { result: cur, wrote: false };
      const value = this.toStorage(gr, key, plain);
      const r = await this.txn({ compare, success: [{ request_put: { key: k, value } }], failure: [] }, key);
      if (!r.succeeded) continue;
      const rev = Number(r.header.revision);
      const out = JSON.parse(plain.toString('utf8')) as KubeObject;
      out.metadata.resourceVersion = String(rev);
      return { result: { key, obj: out, modRevision: rev, stale: false, plain }, wrote: true };
    }
    throw new StorageError('Conflict', `too many concurrent updates of ${key}`, key);
  }

  /**
   * One page of a prefix in key order, from `startKey` (inclusive), at the current revision,
   * undecoded. A page of large values can exceed gRPC's message limit: it then halves until it fits.
   */
  async rangePage(prefix: string, startKey: string, limit: number): Promise<{ kvs: RawKV[]; more: boolean }> {
    const end = prefixRangeEnd(Buffer.from(prefix));
    for (let n = limit; ; n = Math.max(1, Math.floor(n / 2))) {
      try {
        const r = await this.range({ key: Buffer.from(startKey), range_end: end, limit: n }, startKey);
        return { kvs: r.kvs.map(toRaw), more: r.more };
      } catch (err) {
        if (!batchTooBig(err) || n === 1) throw err;
      }
    }
  }

  /**
   * The no-op update in bulk (what GuaranteedUpdate does to one unchanged object, for many):
   * each stale value (read by anything but the first transformer and key) is re-encrypted from
   * its own plaintext and written back with a compare-and-swap on its mod revision, many keys to
   * a transaction. A value that changed since it was read was written by an API server with
   * the current write key already: it counts as raced, not as a failure.
   */
  async rewriteStale(gr: string, kvs: RawKV[]): Promise<RewriteResult> {
    const t = this.transformer(gr);
    const result: RewriteResult = { rewritten: 0, fresh: 0, raced: 0 };
    const writes: CasPut[] = [];
    for (const kv of kvs) {
      const { data, stale } = this.fromStorage(t, kv);
      if (!stale) {
        result.fresh++;
        continue;
      }
      // One key buffer per object, for its compare and its put.
      writes.push({ key: Buffer.from(kv.key), modRevision: kv.modRevision, value: this.toStorage(gr, kv.key, data, t) });
    }
    try {
      const { written, raced } = await this.bulk.put(writes);
      result.rewritten = written;
      result.raced = raced;
    } catch (err) {
      throw fromEtcdError(err, writes[0]?.key.toString('utf8'));
    }
    return result;
  }

  /** Deletes a key if its mod revision is still `modRevision` (no decoding: works for undecryptable values). */
  async deleteAt(key: string, modRevision: number): Promise<number> {
    const k = Buffer.from(key);
    const r = await this.txn({ compare: [{ key: k, target: 'Mod', result: 'Equal', mod_revision: modRevision }], success: [{ request_delete_range: { key: k } }], failure: [] }, key);
    if (!r.succeeded) throw new StorageError('Conflict', `the object at ${key} changed while deleting it`, key);
    return Number(r.header.revision);
  }
}

export function toRaw(kv: IKeyValue): RawKV {
  return { key: kv.key.toString('utf8'), value: kv.value, modRevision: Number(kv.mod_revision), createRevision: Number(kv.create_revision) };
}
