/**
 * Collects a History (history.ts) as the traffic runs: one monotonic clock for every client,
 * per-client sequence numbers, and the special events (faults, compactions, migrations, restores).
 */
import type { History, Millis, Operation, SpecialEvent, WatchStream } from './history.js';

export class Recorder {
  private readonly t0 = performance.now();
  private readonly seqs = new Map<string, number>();
  readonly history: History = { ops: [], watches: [], specials: [] };

  /** Milliseconds since the recorder was made (performance.now(): monotonic). */
  now(): Millis {
    return Math.round((performance.now() - this.t0) * 1000) / 1000;
  }

  /** The next sequence number of `client`: 0, 1, 2 ... */
  seq(client: string): number {
    const n = this.seqs.get(client) ?? 0;
    this.seqs.set(client, n + 1);
    return n;
  }

  op(o: Operation): void {
    this.history.ops.push(o);
  }

  watch(w: WatchStream): void {
    this.history.watches.push(w);
  }

  special(s: SpecialEvent): void {
    this.history.specials.push(s);
  }

  /** A fault or operation from now until the returned function is called (for figures). */
  fault(what: string): (note?: string) => void {
    const start = this.now();
    return (note?: string) => this.special({ kind: 'fault', start, end: this.now(), what: note ? `${what}: ${note}` : what });
  }
}
