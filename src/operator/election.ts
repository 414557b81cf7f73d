/**
 * The operator replicas' leader election, on etcd's primitives the way etcd's Go concurrency
 * package lays it out (a key `<prefix><lease id in hex>` per replica, on its own lease; the
 * oldest key leads), and timed the way client-go's leaderelection is: every replica polls and
 * renews every `retryMs` with a deadline on each call, and a leader that could not renew for
 * `renewDeadlineMs` (less than the lease's TTL) steps down before its lease can expire.
 *
 * Why not etcd3's Campaign: it waits for the previous leader's key to go on a watch stream, and
 * renews on a keep-alive stream, neither with a deadline. When a partition cuts the member such a
 * stream runs on, the stream just goes quiet: nobody noticed the old leader's lease expire for
 * a minute or more (the gRPC keep-alive had to find the dead connection first), and an old
 * leader cut off from etcd kept acting for up to twice the TTL. Polling with deadlines moves to a
 * member that answers within seconds; fail-over then takes the lease's TTL and one poll.
 */
import type { Etcd3 } from 'etcd3';
import { sleep } from '../util/time.js';

export interface ElectionOptions {
  /** e.g. `election/etcd-ops-operator/` */
  prefix: string;
  /** What this replica announces (its node name). */
  value: string;
  ttlSeconds: number;
  /** How often to renew and to look at the election (client-go: RetryPeriod, 2 s). */
  retryMs: number;
  /** A leader that has not renewed for this long stops leading (client-go: RenewDeadline). */
  renewDeadlineMs: number;
  /** Deadline of each etcd call: a cut-off member costs one call, not a stream's silence. */
  callTimeoutMs: number;
  log(line: string): void;
}

export const ELECTION_DEFAULTS = { retryMs: 2000, renewDeadlineMs: 10_000, callTimeoutMs: 2500 };

/**
 * Whether a leader must step down: it last renewed (the request it sent at `lastRenewSent`
 * succeeded) too long ago. etcd counts the TTL from when it handled that request, which is after
 * it was sent, so stepping down at `lastRenewSent + renewDeadlineMs` (< TTL) is always before
 * any other replica can be elected.
 */
export function mustStepDown(lastRenewSent: number, now: number, renewDeadlineMs: number): boolean {
  return now - lastRenewSent > renewDeadlineMs;
}

/** The campaign keys, oldest first: the first one leads. */
export function leaderOf(keys: Array<{ key: string; createRevision: number }>): string | undefined {
  return [...keys].sort((a, b) => a.createRevision - b.createRevision)[0]?.key;
}

export class Election {
  private leaseId?: bigint;
  private key?: string;
  private leading = false;
  private stopped = false;
  private lastRenewSent = 0;
  private lost?: (why: string) => void;
  private lastError = '';
  /** As leader: steps down once the renew deadline passes, whatever the renew loop is waiting for. */
  private watchdog?: NodeJS.Timeout;

  constructor(
    private readonly etcd: Etcd3,
    private readonly o: ElectionOptions,
  ) {}

  private opts() {
    return { deadline: Date.now() + this.o.callTimeoutMs };
  }

  private logError(what: string, err: unknown): void {
    const msg = `${what}: ${(err as Error).message?.split('\n')[0] ?? err}`;
    if (msg !== this.lastError) this.o.log(msg);
    this.lastError = msg;
  }

  /** Called once, when a leader stops leading (it can no longer prove its lease, or lost its key). */
  onLost(fn: (why: string) => void): void {
    this.lost = fn;
  }

  /** Resolves once this replica leads. */
  async campaign(): Promise<void> {
    while (!this.stopped) {
      if (this.key === undefined) await this.join();
      else if (Date.now() - this.lastRenewSent > this.o.ttlSeconds * 1000) {
        // Our lease may be gone (we could not renew for a whole TTL): start over with a new one.
        this.o.log('could not renew the campaign lease for a whole TTL: campaigning again with a new lease');
        this.abandonLease();
        continue;
      }
      try {
        const keys = await this.keys();
        if (!keys.some((k) => k.key === this.key)) {
          this.o.log('the campaign key is gone (its lease expired): campaigning again');
          this.abandonLease();
          continue;
        }
        if (leaderOf(keys) === this.key) {
          this.leading = true;
          void this.lead();
          this.watchdog = setInterval(() => {
            if (mustStepDown(this.lastRenewSent, Date.now(), this.o.renewDeadlineMs)) {
              this.stepDown(`no lease renewal for ${Math.round((Date.now() - this.lastRenewSent) / 1000)} s`);
            }
          }, 250);
          return;
        }
      } catch (err) {
        this.logError('reading the election', err);
      }
      await sleep(this.o.retryMs);
    }
  }

  /** Gives the leadership up at once (revokes the lease), best effort within one call's deadline. */
  async resign(): Promise<void> {
    this.stop();
    if (this.leaseId === undefined) return;
    try {
      await this.etcd.leaseClient.leaseRevoke({ ID: this.leaseId.toString() }, this.opts());
    } catch {}
  }

  /** Stops renewing (tests: a replica that dies without a word). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
  }

  /** Drops the current lease (revoked if etcd answers, else it expires): its key must not lead later. */
  private abandonLease(): void {
    const id = this.leaseId;
    this.key = undefined;
    this.leaseId = undefined;
    if (id !== undefined) void this.etcd.leaseClient.leaseRevoke({ ID: id.toString() }, this.opts()).catch(() => {});
  }

  private async join(): Promise<void> {
    while (!this.stopped) {
      try {
        const sent = Date.now();
        const g = await this.etcd.leaseClient.leaseGrant({ TTL: this.o.ttlSeconds, ID: 0 }, this.opts());
        const id = BigInt(g.ID);
        const key = `${this.o.prefix}${id.toString(16)}`;
        const k = Buffer.from(key);
        await this.etcd.kv.txn(
          {
            compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
            success: [{ request_put: { key: k, value: Buffer.from(this.o.value), lease: id.toString() } }],
            failure: [],
          },
          this.opts(),
        );
        this.leaseId = id;
        this.key = key;
        this.lastRenewSent = sent;
        this.o.log(`campaigning with ${key}`);
        void this.renew(id);
        return;
      } catch (err) {
        this.logError('joining the election', err);
        await sleep(this.o.retryMs);
      }
    }
  }

  private async keys(): Promise<Array<{ key: string; createRevision: number }>> {
    const start = Buffer.from(this.o.prefix);
    const end = Buffer.from(this.o.prefix);
    end[end.length - 1]!++;
    const r = await this.etcd.kv.range({ key: start, range_end: end, keys_only: true }, this.opts());
    return r.kvs.map((kv) => ({ key: kv.key.toString(), createRevision: Number(kv.create_revision) }));
  }

  /** Renews the lease every retry period, for as long as it is this campaign's. */
  private async renew(id: bigint): Promise<void> {
    while (!this.stopped && this.leaseId === id) {
      const sent = Date.now();
      try {
        const ttl = await this.keepAliveOnce(id);
        if (ttl > 0) this.lastRenewSent = sent;
        else if (this.leading) return this.stepDown('etcd says the lease expired');
      } catch (err) {
        this.logError('renewing the lease', err);
      }
      await sleep(Math.max(0, this.o.retryMs - (Date.now() - sent)));
    }
  }

  /** As leader: the oldest key must stay ours (someone may delete it by hand). */
  private async lead(): Promise<void> {
    while (!this.stopped && this.leading) {
      await sleep(this.o.retryMs);
      try {
        const keys = await this.keys();
        const first = leaderOf(keys);
        if (first !== this.key) return this.stepDown(first ? `${first} leads the election now` : 'the election is empty');
      } catch {
        // Unreachable etcd: the renew deadline decides.
      }
    }
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.stop();
    this.lost?.(why);
  }

  private async keepAliveOnce(id: bigint): Promise<number> {
    const stream = await this.etcd.leaseClient.leaseKeepAlive(this.opts());
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.end();
        reject(new Error(`no keep-alive answer within ${this.o.callTimeoutMs} ms`));
      }, this.o.callTimeoutMs);
      stream.on('data', (r: { TTL: string }) => {
        clearTimeout(timer);
        stream.end();
        resolve(Number(r.TTL));
      });
      stream.on('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ ID: id.toString() });
    });
  }
}
