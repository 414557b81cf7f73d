/**
 * How the store's etcd round trips are batched: single-key reads, single-object writes (group
 * commit) and the migration's bulk compare-and-swap puts.
 *
 * Single-key reads that arrive together go to etcd as one read-only transaction of ranges.
 *
 * Each gRPC call costs the API server far more CPU than the read itself (grpc-js builds an HTTP/2
 * stream, metadata and interceptors per call): a GET under concurrency spent most of its time
 * there. A read-only transaction is linearizable like a plain range, and every read in a batch was
 * issued before the batch was sent, so each caller sees what a range of its own would have shown.
 * Reads queued during one turn of the event loop are sent together on the next (setImmediate);
 * a lone read is sent as a plain range.
 */
import type { Etcd3, IKeyValue } from 'etcd3';

interface Waiter {
  key: Buffer;
  resolve: (kv: IKeyValue | undefined) => void;
  reject: (err: unknown) => void;
}

/** etcd refused a request for its size or number of operations: a smaller one would pass. */
export function batchTooBig(err: unknown): boolean {
  const e = err as { message?: string; name?: string };
  return /ResourceExhast|RESOURCE_EXHAUSTED|too many operations in txn request|larger than max|request is too large/i.test(`${e?.name ?? ''} ${e?.message ?? ''}`);
}

export class RangeBatcher {
  private queue: Waiter[] = [];
  private scheduled = false;
  /** etcd refuses transactions over --max-txn-ops (128 by default); halved whenever etcd says so. */
  private maxBatch = 64;

  constructor(
    private readonly client: Etcd3,
    private readonly callOpts: () => { deadline: number },
  ) {}

  /** The current value of one key, or undefined when absent. Rejects with etcd3's error, unmapped. */
  get(key: Buffer): Promise<IKeyValue | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += this.maxBatch) void this.send(all.slice(i, i + this.maxBatch));
  }

  private async single(w: Waiter): Promise<void> {
    try {
      const r = await this.client.kv.range({ key: w.key }, this.callOpts());
      w.resolve(r.kvs[0]);
    } catch (err) {
      w.reject(err);
    }
  }

  private async send(batch: Waiter[]): Promise<void> {
    if (batch.length === 1) return this.single(batch[0]!);
    try {
      const r = await this.client.kv.txn({ success: batch.map((w) => ({ request_range: { key: w.key } })) }, this.callOpts());
      batch.forEach((w, i) => w.resolve(r.responses[i]?.response_range?.kvs[0]));
    } catch (err) {
      if (batchTooBig(err)) {
        this.maxBatch = Math.max(1, Math.min(this.maxBatch, batch.length) >> 1);
        await Promise.all(batch.map((w) => this.single(w)));
        return;
      }
      for (const w of batch) w.reject(err);
    }
  }
}

type TxnRequest = Parameters<Etcd3['kv']['txn']>[0];
type TxnResponse = Awaited<ReturnType<Etcd3['kv']['txn']>>;

interface TxnWaiter {
  req: TxnRequest;
  /** The keys the request may write, in either branch: etcd refuses a txn that writes a key twice. */
  writes: string[];
  resolve: (r: TxnResponse) => void;
  reject: (err: unknown) => void;
}

function writtenKeys(req: TxnRequest): string[] {
  const ops = [...(req.success ?? []), ...(req.failure ?? [])];
  return ops.flatMap((op) => {
    const k = op.request_put?.key ?? op.request_delete_range?.key;
    return k === undefined ? [] : [Buffer.from(k as Buffer).toString('latin1')];
  });
}

/**
 * Group commit for the single-object transactions of creates, updates and deletes: those that
 * arrive together go to etcd as one transaction whose operations are the callers' own
 * transactions (nested txns, etcd 3.3+). etcd evaluates each nested transaction's compares on its
 * own, so every caller gets exactly the outcome its own transaction would have had, while the API
 * server pays for one gRPC call and etcd for one raft proposal. Two writes of the same key never
 * share a batch (etcd would refuse it): the later one waits for the next.
 */
export class TxnBatcher {
  private queue: TxnWaiter[] = [];
  private scheduled = false;
  private maxBatch = 64;

  constructor(
    private readonly client: Etcd3,
    private readonly callOpts: () => { deadline: number },
  ) {}

  txn(req: TxnRequest): Promise<TxnResponse> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, writes: writtenKeys(req), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.queue;
    this.queue = [];
    let batch: TxnWaiter[] = [];
    let keys = new Set<string>();
    for (const w of waiting) {
      if (w.writes.some((k) => keys.has(k))) {
        this.queue.push(w); // the same key twice: next round
        continue;
      }
      batch.push(w);
      for (const k of w.writes) keys.add(k);
      if (batch.length >= this.maxBatch) {
        void this.send(batch);
        batch = [];
        keys = new Set();
      }
    }
    if (batch.length) void this.send(batch);
    if (this.queue.length) this.schedule();
  }

  private async single(w: TxnWaiter): Promise<void> {
    try {
      w.resolve(await this.client.kv.txn(w.req, this.callOpts()));
    } catch (err) {
      w.reject(err);
    }
  }

  private async send(batch: TxnWaiter[]): Promise<void> {
    if (batch.length === 1) return this.single(batch[0]!);
    try {
      const r = await this.client.kv.txn({ compare: [], success: batch.map((w) => ({ request_txn: w.req })), failure: [] }, this.callOpts());
      batch.forEach((w, i) => {
        const inner = r.responses[i]?.response_txn;
        if (!inner) w.reject(new Error('etcd answered a batched transaction without its nested result'));
        else w.resolve({ header: r.header, succeeded: inner.succeeded, responses: inner.responses ?? [] } as TxnResponse);
      });
    } catch (err) {
      if (batchTooBig(err) || /duplicate key/i.test(String((err as Error)?.message))) {
        this.maxBatch = Math.max(1, Math.min(this.maxBatch, batch.length) >> 1);
        await Promise.all(batch.map((w) => this.single(w)));
        return;
      }
      for (const w of batch) w.reject(err);
    }
  }
}

/** One key's conditional put: written only if the key is still at `modRevision`. */
export interface CasPut {
  key: Buffer;
  modRevision: number;
  value: Buffer;
}

/**
 * Many compare-and-swap puts, many keys to a transaction, the transactions in flight together.
 * etcd refuses a transaction over --max-txn-ops (128 by default) or --max-request-bytes: the
 * batch then splits in halves, and later batches start at the smaller size. A transaction that
 * lost a race (some key moved) is retried key by key, so only the keys that moved are left out.
 * Rejects with etcd3's error, unmapped.
 */
export class CasWriter {
  private maxBatch = 128;

  constructor(
    private readonly client: Etcd3,
    private readonly callOpts: () => { deadline: number },
  ) {}

  async put(writes: CasPut[]): Promise<{ written: number; raced: number }> {
    const outcome = { written: 0, raced: 0 };
    const batches: CasPut[][] = [];
    for (let i = 0; i < writes.length; i += this.maxBatch) batches.push(writes.slice(i, i + this.maxBatch));
    await Promise.all(batches.map((b) => this.send(b, outcome)));
    return outcome;
  }

  private async send(batch: CasPut[], outcome: { written: number; raced: number }): Promise<void> {
    let won: boolean;
    try {
      won = await this.txn(batch);
    } catch (err) {
      if (!batchTooBig(err) || batch.length === 1) throw err;
      this.maxBatch = Math.max(1, Math.min(this.maxBatch, batch.length) >> 1);
      const half = Math.ceil(batch.length / 2);
      await Promise.all([this.send(batch.slice(0, half), outcome), this.send(batch.slice(half), outcome)]);
      return;
    }
    if (won) {
      outcome.written += batch.length;
      return;
    }
    for (const w of batch) {
      if (batch.length > 1 && (await this.txn([w]))) outcome.written++;
      else outcome.raced++;
    }
  }

  private async txn(batch: CasPut[]): Promise<boolean> {
    const r = await this.client.kv.txn(
      {
        compare: batch.map((w) => ({ key: w.key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: w.modRevision })),
        success: batch.map((w) => ({ request_put: { key: w.key, value: w.value } })),
        failure: [],
      },
      this.callOpts(),
    );
    return r.succeeded;
  }
}
