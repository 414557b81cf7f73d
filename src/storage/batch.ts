/**
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

/** Failures that come from the batching itself: those reads are retried one by one. */
function batchTooBig(err: unknown): boolean {
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
