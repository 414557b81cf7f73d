/**
 * Each key's versions in resourceVersion order, one chain per key and epoch, built from what the
 * history says about (key, rv): acknowledged writes, and values read back (gets, list items,
 * watch events). Unique values name the write behind each observed version, so the version order
 * is known and the register check is linear (no search over interleavings). Records that disagree
 * about one (key, rv) are reported here and dropped.
 */
import type { Epochs } from './epochs.js';
import { opRef, watchRef, type CreateOp, type History, type MigrationEvent, type ObjectKey, type Revision, type UpdateOp, type Value, type WriteOp } from './history.js';
import type { Findings } from './report.js';

/** A record that saw a version: it took effect no later than `end`; a read also began at `start`. */
export interface Observation {
  start: number;
  end: number;
  ref: string;
}

export interface Version {
  key: ObjectKey;
  epoch: number;
  rv: Revision;
  /** initial: absent before any write; reset: the key as a restore left it; rewrite: a migration's same-value write. */
  kind: 'initial' | 'reset' | 'put' | 'rewrite' | 'delete';
  present: boolean;
  /** put/rewrite/reset: the value; delete: the deleted value when a record told it. */
  value?: Value;
  /** The write behind it (for a reset, behind the restored version); none for a phantom. */
  writer?: WriteOp;
  /** It took effect within [start, end] (its write's time, widened for unknown outcomes). */
  start: number;
  end: number;
  startRef?: string;
  endRef?: string;
  reads: Observation[];
}

export interface Chain {
  key: ObjectKey;
  epoch: number;
  /** versions[0] is `initial` (epoch 0) or `reset`; the rest in rv order. */
  versions: Version[];
}

interface Fact {
  epoch: number;
  key: ObjectKey;
  rv: Revision;
  kind: 'put' | 'delete';
  value?: Value;
  writer?: WriteOp;
  ref: string;
  obs?: Observation;
}

/** An old object read after a restore: it must be the key's state at the backup revision. */
interface ResetRead {
  epoch: number;
  key: ObjectKey;
  rv: Revision;
  value: Value;
  obs: Observation;
  isRead: boolean;
}

const acked = (w: WriteOp) => w.outcome.result === 'ok';
export const effectEnd = (w: WriteOp): number => (acked(w) ? w.end : Infinity);

export class Versions {
  readonly chains: Array<Map<ObjectKey, Chain>> = [];
  /** Where each write's value (or deletion) landed. */
  readonly placement = new Map<WriteOp, Version>();
  readonly valueOwner = new Map<Value, CreateOp | UpdateOp>();
  /** Reads and list items that could not be placed in an epoch (they overlap a restore). */
  ambiguous = 0;
  private readonly unknownByKey = new Map<ObjectKey, WriteOp[]>();
  private readonly migrations: MigrationEvent[];

  constructor(
    private readonly h: History,
    private readonly epochs: Epochs,
    private readonly out: Findings,
  ) {
    this.migrations = h.specials.filter((s): s is MigrationEvent => s.kind === 'migration');
    for (const op of h.ops) {
      if (op.kind === 'create' || op.kind === 'update') {
        if (!this.valueOwner.has(op.value)) this.valueOwner.set(op.value, op);
      }
      if ((op.kind === 'create' || op.kind === 'update' || op.kind === 'delete') && op.outcome.result === 'unknown') {
        const l = this.unknownByKey.get(op.key) ?? [];
        l.push(op);
        this.unknownByKey.set(op.key, l);
      }
    }
    for (let e = 0; e < epochs.count; e++) this.chains.push(new Map());
    this.build();
  }

  /** The chain of `key` in epoch `e`: just `initial`/`reset` when nothing was seen. */
  chain(e: number, key: ObjectKey): Chain {
    let c = this.chains[e]!.get(key);
    if (!c) {
      c = { key, epoch: e, versions: [e === 0 ? this.initial(key) : this.absentReset(key, e)] };
      this.chains[e]!.set(key, c);
    }
    return c;
  }

  /** An unknown-outcome write to `key` that no record showed: it may have been applied unseen. */
  hidden(key: ObjectKey, kinds: WriteOp['kind'][], startedBy: number, precondition?: Revision): WriteOp | undefined {
    return (this.unknownByKey.get(key) ?? []).find(
      (w) =>
        kinds.includes(w.kind) &&
        !this.placement.has(w) &&
        w.start <= startedBy &&
        (precondition === undefined || w.kind === 'create' || w.precondition === undefined || w.precondition === precondition),
    );
  }

  /** A migration had begun by `t`: any object may have been rewritten with its own value. */
  migrationBy(t: number): MigrationEvent | undefined {
    return this.migrations.filter((m) => m.start <= t).sort((a, b) => a.start - b.start)[0];
  }

  static indexAtOrBelow(c: Chain, rv: Revision): number {
    const v = c.versions;
    let lo = 0;
    let hi = v.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (v[mid]!.rv <= rv) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  static indexOf(c: Chain, rv: Revision): number {
    const i = Versions.indexAtOrBelow(c, rv);
    return c.versions[i]!.rv === rv && (i > 0 || c.versions[0]!.kind === 'reset') ? i : -1;
  }

  private initial(key: ObjectKey): Version {
    return { key, epoch: 0, rv: 0, kind: 'initial', present: false, start: -Infinity, end: -Infinity, reads: [] };
  }

  private absentReset(key: ObjectKey, e: number): Version {
    const r = this.epochs.restoreOf(e);
    return { key, epoch: e, rv: 0, kind: 'reset', present: false, start: r.start, end: r.end, startRef: r.ref, endRef: r.ref, reads: [] };
  }

  private build(): void {
    const { facts, resetReads } = this.collect();
    const byEpoch = new Map<number, Fact[]>();
    for (const f of facts) {
      const l = byEpoch.get(f.epoch) ?? [];
      l.push(f);
      byEpoch.set(f.epoch, l);
    }
    for (let e = 0; e < this.epochs.count; e++) {
      if (e > 0) this.makeResets(e);
      const byKey = new Map<ObjectKey, Fact[]>();
      for (const f of byEpoch.get(e) ?? []) {
        const l = byKey.get(f.key) ?? [];
        l.push(f);
        byKey.set(f.key, l);
      }
      for (const [key, fs] of byKey) {
        // Acknowledged writes first: their revision is what the server said, the rest must agree.
        fs.sort((a, b) => Number(!!b.writer && acked(b.writer)) - Number(!!a.writer && acked(a.writer)) || a.rv - b.rv);
        const c = this.chain(e, key);
        const byRv = new Map<Revision, Version>();
        const firstSeen = new Map<Revision, number>();
        for (const f of fs) firstSeen.set(f.rv, Math.min(firstSeen.get(f.rv) ?? Infinity, f.obs?.end ?? Infinity));
        for (const f of fs) this.addFact(c, byRv, f, firstSeen.get(f.rv)!);
        const [first, ...rest] = c.versions;
        c.versions = [first!, ...rest.sort((a, b) => a.rv - b.rv)];
        this.attributeDeletes(c, firstSeen);
      }
      for (const r of resetReads.filter((x) => x.epoch === e)) this.checkResetRead(r);
    }
  }

  private collect(): { facts: Fact[]; resetReads: ResetRead[] } {
    const facts: Fact[] = [];
    const resetReads: ResetRead[] = [];
    const ep = this.epochs;
    // An object read in epoch e: an old resourceVersion is the restored state, whose version lives
    // in an earlier epoch. A list item counts as a read only once its list is consistent (register.ts).
    const objectRead = (e: number, key: ObjectKey, rv: Revision, value: Value, obs: Observation, isRead: boolean) => {
      if (e > 0 && rv <= ep.restoreOf(e).backupRevision) {
        facts.push({ epoch: ep.home(rv, e), key, rv, kind: 'put', value, ref: obs.ref });
        resetReads.push({ epoch: e, key, rv, value, obs, isRead });
      } else {
        facts.push({ epoch: e, key, rv, kind: 'put', value, ref: obs.ref, obs: isRead ? obs : undefined });
      }
    };
    for (const op of this.h.ops) {
      const o = op.outcome;
      if (o.result !== 'ok') continue;
      const ref = opRef(op);
      if (op.kind === 'create' || op.kind === 'update') {
        if (o.result === 'ok' && 'rv' in o) facts.push({ epoch: ep.of(op.start, op.end, o.rv)!, key: op.key, rv: o.rv, kind: 'put', value: op.value, writer: op, ref });
      } else if (op.kind === 'delete') {
        const d = op.outcome as { rv: Revision; value?: Value };
        facts.push({ epoch: ep.of(op.start, op.end, d.rv)!, key: op.key, rv: d.rv, kind: 'delete', value: d.value, writer: op, ref });
      } else if (op.kind === 'get') {
        const r = op.outcome as { rv: Revision; value: Value };
        const e = ep.of(op.start, op.end, r.rv, false);
        if (e === undefined) this.ambiguous++;
        else objectRead(e, op.key, r.rv, r.value, { start: op.start, end: op.end, ref }, true);
      } else {
        const l = op.outcome as { rv: Revision; items: { key: ObjectKey; rv: Revision; value: Value }[] };
        const e = ep.of(op.start, op.end, l.rv)!;
        for (const it of l.items) objectRead(e, it.key, it.rv, it.value, { start: op.start, end: op.end, ref }, false);
      }
    }
    for (const w of this.h.watches) {
      const se = ep.ofStream(w);
      if (se === undefined) continue;
      w.events.forEach((ev, i) => {
        if (ev.type === 'BOOKMARK' || ev.key === undefined || !ep.eventUsable(ev, se)) return;
        const ref = watchRef(w, i);
        facts.push({ epoch: se, key: ev.key, rv: ev.rv, kind: ev.type === 'DELETED' ? 'delete' : 'put', value: ev.value, ref, obs: { start: -Infinity, end: ev.at, ref } });
      });
    }
    return { facts, resetReads };
  }

  private addFact(c: Chain, byRv: Map<Revision, Version>, f: Fact, seenBy: number): void {
    const existing = byRv.get(f.rv);
    if (existing) {
      const sameWriter = !f.writer || !existing.writer || f.writer === existing.writer;
      if (existing.present !== (f.kind === 'put')) {
        this.out.violation('value-mismatch', [f.ref, ...refOf(existing)], `${c.key} at rv ${f.rv}: ${f.ref} says ${f.kind === 'put' ? 'present' : 'deleted'}, ${refOf(existing)[0] ?? 'another record'} says ${existing.present ? 'present' : 'deleted'}`);
        return;
      }
      if ((f.value !== undefined && existing.value !== undefined && f.value !== existing.value) || !sameWriter) {
        this.out.violation('value-mismatch', [f.ref, ...refOf(existing)], `${c.key} at rv ${f.rv}: ${f.ref} says ${JSON.stringify(f.value)}, ${refOf(existing)[0] ?? 'another record'} says ${JSON.stringify(existing.value)}`);
        return;
      }
      if (existing.value === undefined) existing.value = f.value;
      if (f.obs) existing.reads.push(f.obs);
      return;
    }
    let v: Version | undefined;
    if (f.kind === 'put') v = this.putVersion(c, f, seenBy);
    else v = this.deleteVersion(c, f);
    if (!v) return;
    if (f.obs) v.reads.push(f.obs);
    byRv.set(f.rv, v);
    c.versions.push(v);
  }

  private putVersion(c: Chain, f: Fact, seenBy: number): Version | undefined {
    const base = { key: c.key, epoch: c.epoch, rv: f.rv, present: true, value: f.value, reads: [] as Observation[] };
    const w = f.writer ?? this.valueOwner.get(f.value!);
    if (!w) {
      this.out.violation('phantom-write', [f.ref], `${f.ref} shows ${c.key} = ${JSON.stringify(f.value)} at rv ${f.rv}, a value no recorded write wrote`);
      return { ...base, kind: 'put', start: -Infinity, end: Infinity };
    }
    if (w.key !== c.key) {
      this.out.violation('value-mismatch', [f.ref, opRef(w)], `${f.ref} shows ${JSON.stringify(f.value)} on ${c.key} at rv ${f.rv}, but ${opRef(w)} wrote it to ${w.key}`);
      return undefined;
    }
    if (w.outcome.result === 'failed') {
      this.out.violation('failed-write-visible', [f.ref, opRef(w)], `${f.ref} shows ${c.key} = ${JSON.stringify(f.value)} at rv ${f.rv}, written by ${opRef(w)} which failed with ${w.outcome.code}`);
    }
    const placed = this.placement.get(w);
    if (!placed) {
      const v: Version = { ...base, kind: 'put', writer: w, start: w.start, end: effectEnd(w), startRef: opRef(w), endRef: opRef(w) };
      this.placement.set(w, v);
      return v;
    }
    if (placed.epoch !== c.epoch) {
      this.out.violation('restore-state', [f.ref, opRef(w), this.epochs.restoreOf(c.epoch).ref], `${f.ref} shows ${c.key} = ${JSON.stringify(f.value)} (rv ${f.rv}) after ${this.epochs.restoreOf(c.epoch).ref}, but that write (${opRef(w)}, rv ${placed.rv}) was made before the restore and not kept by it`);
      return undefined;
    }
    const m = this.migrationBy(seenBy);
    if (f.rv > placed.rv && m) {
      return { ...base, kind: 'rewrite', writer: w, start: Math.max(w.start, m.start), end: Infinity, startRef: opRef(w) };
    }
    this.out.violation('value-mismatch', [f.ref, opRef(w)], `${f.ref} shows ${c.key} = ${JSON.stringify(f.value)} at rv ${f.rv}, but ${opRef(w)}'s value is at rv ${placed.rv}${m ? '' : ' (and no migration could rewrite it)'}`);
    return undefined;
  }

  private deleteVersion(c: Chain, f: Fact): Version {
    const v: Version = { key: c.key, epoch: c.epoch, rv: f.rv, present: false, value: f.value, reads: [], kind: 'delete', start: -Infinity, end: Infinity };
    if (f.writer) this.setWriter(v, f.writer);
    return v;
  }

  private setWriter(v: Version, w: WriteOp): void {
    Object.assign(v, { writer: w, start: w.start, end: effectEnd(w), startRef: opRef(w), endRef: opRef(w) });
    this.placement.set(w, v);
  }

  /**
   * Deletions seen only by watches belong to unknown-outcome deletes: each to a different one,
   * begun before the deletion was seen, whose precondition (if any) is the version it deleted.
   * A bipartite matching (Kuhn's), so one greedy choice cannot starve a later deletion.
   */
  private attributeDeletes(c: Chain, firstSeen: Map<Revision, number>): void {
    const orphans = c.versions.map((v, i) => ({ v, i })).filter(({ v }) => v.kind === 'delete' && !v.writer);
    if (orphans.length === 0) return;
    const candidates = (this.unknownByKey.get(c.key) ?? []).filter((w) => w.kind === 'delete' && !this.placement.has(w));
    const fits = (i: number, w: WriteOp) =>
      w.start <= (firstSeen.get(c.versions[i]!.rv) ?? Infinity) && (w.kind !== 'delete' || w.precondition === undefined || w.precondition === c.versions[i - 1]!.rv);
    const owner = new Map<WriteOp, number>();
    const tryAssign = (o: number, seen: Set<WriteOp>): boolean => {
      for (const w of candidates) {
        if (seen.has(w) || !fits(orphans[o]!.i, w)) continue;
        seen.add(w);
        const cur = owner.get(w);
        if (cur === undefined || tryAssign(cur, seen)) {
          owner.set(w, o);
          return true;
        }
      }
      return false;
    };
    for (let o = 0; o < orphans.length; o++) tryAssign(o, new Set());
    const assigned = new Map<number, WriteOp>();
    for (const [w, o] of owner) assigned.set(o, w);
    orphans.forEach(({ v, i }, o) => {
      const w = assigned.get(o);
      if (w) {
        this.setWriter(v, w);
        // Whichever fitting delete it was, it began no earlier than the first of them.
        const first = candidates.filter((x) => fits(i, x)).reduce((a, b) => (b.start < a.start ? b : a));
        Object.assign(v, { start: first.start, startRef: opRef(first) });
      } else this.out.violation('phantom-write', v.reads.slice(0, 1).map((r) => r.ref), `${v.reads[0]?.ref ?? 'a record'} shows ${c.key} deleted at rv ${v.rv}, by no recorded delete that could have done it`);
    });
  }

  /** Every key known before restore e starts epoch e as it was at the backup revision. */
  private makeResets(e: number): void {
    const r = this.epochs.restoreOf(e);
    const d = this.epochs.home(r.backupRevision, e);
    const keys = new Set<ObjectKey>();
    for (let p = 0; p < e; p++) for (const k of this.chains[p]!.keys()) keys.add(k);
    for (const key of keys) {
      const src = this.chains[d]!.get(key);
      const at = src ? src.versions[Versions.indexAtOrBelow(src, r.backupRevision)]! : undefined;
      const reset: Version = at?.present
        ? { key, epoch: e, rv: at.rv, kind: 'reset', present: true, value: at.value, writer: at.writer, start: r.start, end: r.end, startRef: r.ref, endRef: r.ref, reads: [] }
        : this.absentReset(key, e);
      this.chains[e]!.set(key, { key, epoch: e, versions: [reset] });
    }
  }

  private checkResetRead(r: ResetRead): void {
    const c = this.chain(r.epoch, r.key);
    const reset = c.versions[0]!;
    if (reset.present && reset.rv === r.rv && reset.value === r.value) {
      if (r.isRead) reset.reads.push(r.obs);
      return;
    }
    const restore = this.epochs.restoreOf(r.epoch);
    const was = reset.present ? `rv ${reset.rv} = ${JSON.stringify(reset.value)}` : 'absent';
    this.out.violation('restore-state', [r.obs.ref, restore.ref], `${r.obs.ref} read ${r.key} = ${JSON.stringify(r.value)} (rv ${r.rv}) after ${restore.ref}, but at the backup revision ${restore.backupRevision} it was ${was}`);
  }

  /** Number of versions written by clients (not initial/reset placeholders). */
  get size(): number {
    let n = 0;
    for (const m of this.chains) for (const c of m.values()) n += c.versions.length - 1;
    return n;
  }
}

function refOf(v: Version): string[] {
  if (v.writer) return [opRef(v.writer)];
  return v.reads.slice(0, 1).map((r) => r.ref);
}
