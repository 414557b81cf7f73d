/**
 * Restores cut a history into epochs: epoch 0 before the first restore, epoch j after the j-th.
 * Each epoch starts from the state at its restore's backup revision, and its revisions must lie
 * above every revision handed out before (the bump). Records are placed by time; one that overlaps
 * a restore is placed by the revision it carries, or is ambiguous.
 */
import { isWrite, opRef, specialRef, watchRef, type History, type RestoreEvent, type Revision, type WatchEvent, type WatchStream } from './history.js';

/** A revision handed out to a client: a write's, a list's collection rv, a watch event's. */
export interface RevisionPoint {
  start: number;
  end: number;
  rv: Revision;
  client: string;
  ref: string;
  kind: 'write' | 'list' | 'event';
  key?: string;
}

export interface Restore {
  ref: string;
  start: number;
  end: number;
  backupRevision: Revision;
  /** The highest revision handed out before the restore (began, or: below its first revision), and who got it. */
  maxBefore: Revision;
  firstRevision?: Revision;
  maxBeforeRef?: string;
}

export function revisionPoints(h: History): RevisionPoint[] {
  const out: RevisionPoint[] = [];
  for (const op of h.ops) {
    if (op.outcome.result !== 'ok') continue;
    if (isWrite(op)) out.push({ start: op.start, end: op.end, rv: op.outcome.rv, client: op.client, ref: opRef(op), kind: 'write', key: op.key });
    else if (op.kind === 'list') out.push({ start: op.start, end: op.end, rv: op.outcome.rv, client: op.client, ref: opRef(op), kind: 'list' });
  }
  for (const w of h.watches) {
    w.events.forEach((e, i) => out.push({ start: e.at, end: e.at, rv: e.rv, client: w.client, ref: watchRef(w, i), kind: 'event', key: e.key }));
  }
  return out;
}

export class Epochs {
  readonly restores: Restore[];

  constructor(h: History, points: RevisionPoint[]) {
    const rs = h.specials
      .map((s, i) => ({ s, i }))
      .filter((x): x is { s: RestoreEvent; i: number } => x.s.kind === 'restore')
      .sort((a, b) => a.s.start - b.s.start);
    this.restores = rs.map(({ s, i }) => {
      let maxBefore = 0;
      let maxBeforeRef: string | undefined;
      const first = s.firstRevision;
      for (const p of points) {
        // With the restore's first revision, anything below it that began before the restore ended
        // was handed out by the old cluster, even during the restore's first steps.
        const before = first !== undefined ? p.rv < first && p.start < s.end : p.end < s.start;
        if (before && p.rv > maxBefore) {
          maxBefore = p.rv;
          maxBeforeRef = p.ref;
        }
      }
      return { ref: specialRef(s, i), start: s.start, end: s.end, backupRevision: s.backupRevision, maxBefore, maxBeforeRef, ...(first !== undefined ? { firstRevision: first } : {}) };
    });
  }

  get count(): number {
    return this.restores.length + 1;
  }

  /** The restore that began epoch `e` (e >= 1). */
  restoreOf(e: number): Restore {
    return this.restores[e - 1]!;
  }

  /**
   * The epoch of a record active during [start, end]. `rv` is a revision it carries; `global` says
   * it was handed out then (a write's, a list's, an event's) rather than an object's old
   * resourceVersion. Undefined when it overlaps a restore and nothing tells which side it is on.
   */
  of(start: number, end: number, rv?: Revision, global = true): number | undefined {
    let e = 0;
    for (const [j, r] of this.restores.entries()) {
      if (start > r.end) {
        e = j + 1;
        continue;
      }
      if (end < r.start) return e;
      if (rv !== undefined && global && r.firstRevision !== undefined) {
        if (rv >= r.firstRevision) {
          e = j + 1;
          continue;
        }
        return e;
      }
      if (rv !== undefined && rv > r.maxBefore) {
        e = j + 1;
        continue;
      }
      if (rv !== undefined && global) return e;
      return undefined;
    }
    return e;
  }

  /** The epoch a watch stream belongs to: where it started. */
  ofStream(w: WatchStream): number | undefined {
    const first = w.events.find((e) => e.type !== 'BOOKMARK');
    return this.of(w.start, w.start, first?.rv);
  }

  /**
   * Whether a watch event can be trusted as a fact of its stream's epoch: not received after a
   * restore the stream began before, and not from before that epoch's restore.
   */
  eventUsable(e: WatchEvent, streamEpoch: number): boolean {
    const next = this.restores[streamEpoch];
    if (next && e.at > next.end) return false;
    return streamEpoch === 0 || e.rv > this.restoreOf(streamEpoch).maxBefore;
  }

  /** The epoch (below `e`) whose revisions hold `rv`: where an old object's version lives. */
  home(rv: Revision, e: number): number {
    let d = 0;
    for (let j = 1; j < e; j++) if (this.restoreOf(j).maxBefore < rv) d = j;
    return d;
  }
}
