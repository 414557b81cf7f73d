/**
 * Hand-written histories for the checker's tests, short to read: times are [start, end], a write's
 * outcome is its rv, 'unknown', or a status code, and values are `<client>-<seq>` as the traffic
 * generator writes them.
 */
import { uniqueValue, type History, type Operation, type Revision, type Scope, type SpecialEvent, type WatchEnding, type WatchEvent, type WatchStream } from './history.js';

export type Span = [number, number];
/** An rv (acknowledged), 'unknown', or an HTTP status of a definite failure. */
export type WriteResult = number | 'unknown' | { code: number; reason?: string };
export type GetResult = [Revision, string] | 404 | 'unknown';
/** [type, key, rv, value, at]; a BOOKMARK is ['BOOKMARK', rv, at]. */
export type EventSketch = [Exclude<WatchEvent['type'], 'BOOKMARK'>, string, Revision, string | undefined, number] | ['BOOKMARK', Revision, number];

export class Sketch {
  private readonly ops: Operation[] = [];
  private readonly watches: WatchStream[] = [];
  private readonly specials: SpecialEvent[] = [];
  private readonly seqs = new Map<string, number>();

  private next(client: string): number {
    const s = this.seqs.get(client) ?? 0;
    this.seqs.set(client, s + 1);
    return s;
  }

  private writeOutcome(r: WriteResult) {
    if (r === 'unknown') return { result: 'unknown' as const, error: 'timeout' };
    if (typeof r === 'number') return { result: 'ok' as const, rv: r };
    return { result: 'failed' as const, code: r.code, reason: r.reason };
  }

  /** Returns the value written. */
  create(client: string, key: string, [start, end]: Span, r: WriteResult): string {
    const seq = this.next(client);
    const value = uniqueValue(client, seq);
    this.ops.push({ kind: 'create', client, seq, start, end, key, value, outcome: this.writeOutcome(r) });
    return value;
  }

  update(client: string, key: string, [start, end]: Span, r: WriteResult, precondition?: Revision): string {
    const seq = this.next(client);
    const value = uniqueValue(client, seq);
    this.ops.push({ kind: 'update', client, seq, start, end, key, value, precondition, outcome: this.writeOutcome(r) });
    return value;
  }

  delete(client: string, key: string, [start, end]: Span, r: WriteResult, opts: { precondition?: Revision; value?: string } = {}): void {
    const seq = this.next(client);
    const o = this.writeOutcome(r);
    const outcome = o.result === 'ok' ? { ...o, value: opts.value } : o;
    this.ops.push({ kind: 'delete', client, seq, start, end, key, precondition: opts.precondition, outcome });
  }

  get(client: string, key: string, [start, end]: Span, r: GetResult): void {
    const seq = this.next(client);
    const outcome =
      r === 'unknown' ? { result: 'unknown' as const, error: 'timeout' } : r === 404 ? { result: 'failed' as const, code: 404, reason: 'NotFound' } : { result: 'ok' as const, rv: r[0], value: r[1] };
    this.ops.push({ kind: 'get', client, seq, start, end, key, outcome });
  }

  list(client: string, [start, end]: Span, rv: Revision, items: Array<[string, Revision, string]>, opts: { final?: boolean; scope?: Scope } = {}): void {
    const seq = this.next(client);
    this.ops.push({
      kind: 'list',
      client,
      seq,
      start,
      end,
      scope: opts.scope ?? {},
      final: opts.final,
      outcome: { result: 'ok', rv, items: items.map(([key, irv, value]) => ({ key, rv: irv, value })) },
    });
  }

  watch(id: string, client: string, startRv: Revision, [start, end]: Span, events: EventSketch[], ending: WatchEnding = { kind: 'closed' }, opts: { resumeOf?: string; scope?: Scope } = {}): void {
    this.watches.push({
      id,
      client,
      scope: opts.scope ?? {},
      startRv,
      start,
      end,
      resumeOf: opts.resumeOf,
      ending,
      events: events.map((e): WatchEvent => (e[0] === 'BOOKMARK' ? { type: 'BOOKMARK', rv: e[1], at: e[2] } : { type: e[0], key: e[1], rv: e[2], value: e[3], at: e[4] })),
    });
  }

  restore([start, end]: Span, backupRevision: Revision, firstRevision?: Revision): void {
    this.specials.push({ kind: 'restore', start, end, backupRevision, ...(firstRevision !== undefined ? { firstRevision } : {}) });
  }

  compaction(at: number, revision: Revision): void {
    this.specials.push({ kind: 'compaction', at, revision });
  }

  migration([start, end]: Span): void {
    this.specials.push({ kind: 'migration', start, end });
  }

  build(): History {
    return structuredClone({ ops: this.ops, watches: this.watches, specials: this.specials });
  }
}
