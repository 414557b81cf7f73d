/**
 * Per key: is there a linearization of the key's writes in rv order, with every read placed
 * between the version it returned and the next one, each within its request's time?
 *
 * The version order is known (versions.ts), so this is interval propagation along the chain:
 * the earliest moment each version can take effect (after its write began, after everything
 * before it, after every read of an older version began) and the latest (before its write was
 * acknowledged, before anything after it, before every read of it ended). A version whose
 * earliest moment is after its latest, or a read with no room between its version and the next,
 * names the two records that conflict. Absent reads, refusals (404, 409) and lists are judged
 * against the same bounds.
 */
import type { Epochs } from './epochs.js';
import { inScope, opRef, type GetOp, type ListOp, type Operation, type WriteOp } from './history.js';
import type { Findings } from './report.js';
import { effectEnd, Versions, type Chain } from './versions.js';

interface Bound {
  t: number;
  ref?: string;
  /** A read's start or end (else a write's, or a restore's). */
  read: boolean;
  /** The version the bounding record wrote or read. */
  rv: number;
}

interface Bounds {
  lower: Bound[];
  upper: Bound[];
}

const NONE_HIGH: Bound = { t: Infinity, read: false, rv: 0 };
const maxB = (a: Bound, b: Bound) => (b.t > a.t ? b : a);
const minB = (a: Bound, b: Bound) => (b.t < a.t ? b : a);

export interface RegisterStats {
  expectedLost: number;
  ambiguous: number;
}

export function checkRegisters(ops: Operation[], vs: Versions, epochs: Epochs, out: Findings): RegisterStats {
  const stats: RegisterStats = { expectedLost: 0, ambiguous: 0 };
  for (const m of vs.chains) for (const c of m.values()) checkStructure(c, vs, out);
  for (const op of ops) if (op.kind === 'list' && op.outcome.result === 'ok') checkList(op, vs, epochs, out);
  const bounds = new Map<Chain, Bounds>();
  for (const m of vs.chains) {
    for (const c of m.values()) {
      const b = computeBounds(c);
      bounds.set(c, b);
      checkBounds(c, b, out);
    }
  }
  const boundsOf = (c: Chain) => {
    let b = bounds.get(c);
    if (!b) bounds.set(c, (b = computeBounds(c)));
    return b;
  };
  for (const op of ops) {
    if (op.kind === 'list' || op.outcome.result !== 'failed') continue;
    const e = epochs.of(op.start, op.end);
    if (e === undefined) {
      stats.ambiguous++;
      continue;
    }
    const c = vs.chain(e, op.key);
    checkRefusal(op, op.outcome.code, c, boundsOf(c), vs, out);
  }
  stats.expectedLost = countExpectedLost(ops, vs, epochs);
  return stats;
}

/** Each version must be a legal successor of the one before it. */
function checkStructure(c: Chain, vs: Versions, out: Findings): void {
  for (let i = 1; i < c.versions.length; i++) {
    const v = c.versions[i]!;
    const pred = c.versions[i - 1]!;
    const w = v.writer;
    const was = pred.present ? `rv ${pred.rv}` : 'absent';
    const predRefs = pred.writer ? [opRef(pred.writer)] : [];
    if (v.kind === 'rewrite') {
      if (!pred.present || pred.value !== v.value) {
        out.violation('value-mismatch', [...(w ? [opRef(w)] : []), ...predRefs], `${c.key} at rv ${v.rv} has ${JSON.stringify(v.value)} again, but the version before it (${was}) is ${JSON.stringify(pred.value)}`);
      }
      continue;
    }
    if (!w) continue;
    const ref = opRef(w);
    const pre = w.kind === 'create' ? undefined : w.precondition;
    if (pre !== undefined) {
      if (!pred.present || pred.rv !== pre) {
        out.violation('cas-precondition', [ref, ...predRefs], `${ref} ${w.kind}d ${c.key} (rv ${v.rv}) with precondition rv ${pre}, but the version before it is ${was}`);
      }
    } else if (w.kind === 'create') {
      if (pred.present && !vs.hidden(c.key, ['delete'], effectEnd(w), pred.rv)) {
        out.violation('write-precondition', [ref, ...predRefs], `${ref} created ${c.key} (rv ${v.rv}) while it existed at rv ${pred.rv}, and no unknown delete can explain it`);
      }
    } else if (!pred.present && !vs.hidden(c.key, ['create'], effectEnd(w))) {
      out.violation('write-precondition', [ref, ...predRefs], `${ref} ${w.kind}d ${c.key} (rv ${v.rv}) but it was absent before (${pred.kind === 'delete' ? `deleted at rv ${pred.rv}` : 'never created'}), and no unknown create can explain it`);
    }
    if (v.kind === 'delete' && v.value !== undefined && pred.present && pred.value !== undefined && pred.value !== v.value) {
      out.violation('value-mismatch', [ref, ...predRefs], `the deletion of ${c.key} at rv ${v.rv} returned ${JSON.stringify(v.value)}, but the version before it (rv ${pred.rv}) is ${JSON.stringify(pred.value)}`);
    }
  }
}

/** A list at revision R shows, for every key in its scope, the last version at or below R. */
function checkList(op: ListOp, vs: Versions, epochs: Epochs, out: Findings): void {
  const l = op.outcome as { rv: number; items: { key: string; rv: number; value: string }[] };
  const ref = opRef(op);
  const e = epochs.of(op.start, op.end, l.rv)!;
  const rule = op.final ? 'lost-write' : 'list-snapshot';
  const items = new Map<string, { rv: number; value: string }>();
  for (const it of l.items) {
    if (!inScope(op.scope, it.key)) out.violation('list-snapshot', [ref], `${ref} (scope ${JSON.stringify(op.scope)}) returned ${it.key}, which is outside it`);
    else if (items.has(it.key)) out.violation('list-snapshot', [ref], `${ref} returned ${it.key} twice`);
    items.set(it.key, it);
  }
  const obs = { start: op.start, end: op.end, ref };
  for (const c of vs.chains[e]!.values()) {
    if (!inScope(op.scope, c.key)) continue;
    const idx = Versions.indexAtOrBelow(c, l.rv);
    const want = c.versions[idx]!;
    const item = items.get(c.key);
    if (item) {
      const j = e > 0 && item.rv <= epochs.restoreOf(e).backupRevision ? (c.versions[0]!.rv === item.rv ? 0 : -1) : Versions.indexOf(c, item.rv);
      if (j < 0) continue; // reported where the item was placed
      if (j === idx) {
        want.reads.push(obs);
        continue;
      }
      if (j > idx) {
        out.violation('list-snapshot', [ref], `${ref} at rv ${l.rv} returned ${c.key} at rv ${item.rv}, newer than the list`);
        continue;
      }
      const lost = c.versions.slice(j + 1, idx + 1).filter((v) => v.writer && v.kind !== 'rewrite');
      const names = lost.map((v) => `${opRef(v.writer!)} (rv ${v.rv}${v.writer!.outcome.result === 'ok' ? ', acknowledged' : ', seen'})`);
      out.violation(rule, [ref, ...lost.map((v) => opRef(v.writer!))], `${ref} at rv ${l.rv} shows ${c.key} at rv ${item.rv}, but later writes at or below rv ${l.rv} are missing: ${names.join(', ') || `rv ${want.rv}`}`);
      continue;
    }
    if (!want.present) {
      want.reads.push(obs);
      continue;
    }
    const next = c.versions[idx + 1];
    const nextAllows = !next || !next.writer || next.writer.kind === 'create';
    if (nextAllows && vs.hidden(c.key, ['delete'], op.end, want.rv)) continue;
    const who = want.writer ? `${opRef(want.writer)} (rv ${want.rv})` : `rv ${want.rv}`;
    out.violation(rule, [ref, ...(want.writer ? [opRef(want.writer)] : [])], `${ref} at rv ${l.rv} has no ${c.key}, but ${who} made it present and nothing deleted it by then`);
  }
}

function computeBounds(c: Chain): Bounds {
  const v = c.versions;
  const n = v.length;
  const lower: Bound[] = new Array(n);
  const upper: Bound[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let lo: Bound = { t: v[i]!.start, ref: v[i]!.startRef, read: false, rv: v[i]!.rv };
    if (i > 0) {
      lo = maxB(lo, lower[i - 1]!);
      for (const r of v[i - 1]!.reads) lo = maxB(lo, { t: r.start, ref: r.ref, read: true, rv: v[i - 1]!.rv });
    }
    lower[i] = lo;
  }
  for (let i = n - 1; i >= 0; i--) {
    let hi: Bound = { t: v[i]!.end, ref: v[i]!.endRef, read: false, rv: v[i]!.rv };
    if (i < n - 1) hi = minB(hi, upper[i + 1]!);
    for (const r of v[i]!.reads) hi = minB(hi, { t: r.end, ref: r.ref, read: true, rv: v[i]!.rv });
    upper[i] = hi;
  }
  return { lower, upper };
}

/** Names a conflict between "not before lo" and "not after hi" (lo.t > hi.t). */
function conflict(key: string, lo: Bound, hi: Bound, out: Findings): void {
  if (!lo.ref || !hi.ref) return;
  if (lo.read) {
    out.violation('stale-read', [lo.ref, hi.ref], `${lo.ref} began at ${lo.t} and read ${key} at rv ${lo.rv}, but rv ${hi.rv} was already visible (${hi.ref} at ${hi.t})`);
  } else if (hi.read) {
    out.violation('read-future', [hi.ref, lo.ref], `${hi.ref} returned ${key} at rv ${hi.rv} by ${hi.t}, but the write of rv ${lo.rv} (${lo.ref}), which comes no later, only began at ${lo.t}`);
  }
  // Two writes out of order: rv-realtime reports it, across keys too.
}

function checkBounds(c: Chain, b: Bounds, out: Findings): void {
  const v = c.versions;
  // The latest start of a write at or before each version: a read of it that ended earlier read
  // the future, whatever else it conflicts with.
  let began: Bound = { t: -Infinity, read: false, rv: 0 };
  for (let i = 0; i < v.length; i++) {
    if (v[i]!.start > began.t) began = { t: v[i]!.start, ref: v[i]!.startRef, read: false, rv: v[i]!.rv };
    if (b.lower[i]!.t > b.upper[i]!.t) conflict(c.key, b.lower[i]!, b.upper[i]!, out);
    const next = b.upper[i + 1] ?? NONE_HIGH;
    for (const r of v[i]!.reads) {
      if (began.t > r.end) conflict(c.key, began, { t: r.end, ref: r.ref, read: true, rv: v[i]!.rv }, out);
      const lo = maxB({ t: r.start, ref: r.ref, read: true, rv: v[i]!.rv }, b.lower[i]!);
      const hi = minB({ t: r.end, ref: r.ref, read: true, rv: v[i]!.rv }, next);
      if (lo.t > hi.t) conflict(c.key, lo, hi, out);
    }
  }
}

/** Could the key have been absent at some moment of [s, e]? */
function absentPossible(c: Chain, b: Bounds, s: number, e: number, vs: Versions): boolean {
  const v = c.versions;
  for (let i = 0; i < v.length; i++) {
    const hi = Math.min(e, (b.upper[i + 1] ?? NONE_HIGH).t);
    if (!v[i]!.present) {
      if (Math.max(s, b.lower[i]!.t) <= hi) return true;
      continue;
    }
    const next = v[i + 1];
    if (next && next.writer && next.writer.kind !== 'create') continue;
    const u = vs.hidden(c.key, ['delete'], hi, v[i]!.rv);
    if (u && Math.max(s, b.lower[i]!.t, u.start) <= hi) return true;
  }
  return false;
}

/** Could the key have been present at some moment of [s, e]? */
function presentPossible(c: Chain, b: Bounds, s: number, e: number, vs: Versions): boolean {
  const v = c.versions;
  for (let i = 0; i < v.length; i++) {
    if (v[i]!.present && Math.max(s, b.lower[i]!.t) <= Math.min(e, (b.upper[i + 1] ?? NONE_HIGH).t)) return true;
  }
  return !!vs.hidden(c.key, ['create'], e);
}

/** Could some write to the key (other than this one) have taken effect within [s, e]? */
function otherWritePossible(c: Chain, b: Bounds, s: number, e: number, vs: Versions): boolean {
  for (let i = 1; i < c.versions.length; i++) if (b.lower[i]!.t <= e && b.upper[i]!.t >= s) return true;
  return !!vs.hidden(c.key, ['create', 'update', 'delete'], e) || !!vs.migrationBy(e);
}

/** A definite refusal must have had a reason during the request. */
function checkRefusal(op: WriteOp | GetOp, code: number, c: Chain, b: Bounds, vs: Versions, out: Findings): void {
  const ref = opRef(op);
  const { start: s, end: e } = op;
  if (code === 404 && op.kind !== 'create') {
    if (!absentPossible(c, b, s, e, vs)) {
      const cur = c.versions[Versions.indexAtOrBelow(c, Infinity)]!;
      out.violation('absent-read', [ref, ...(cur.writer ? [opRef(cur.writer)] : [])], `${ref} (${op.kind}) got 404 for ${c.key}, which existed during the whole request (${s}..${e})`);
    }
    return;
  }
  if (code !== 409 || op.kind === 'get') return;
  if (op.kind === 'create') {
    if (!presentPossible(c, b, s, e, vs)) out.violation('conflict-without-cause', [ref], `${ref} got 409 AlreadyExists for ${c.key}, which could not exist during the request (${s}..${e})`);
    return;
  }
  if (op.precondition === undefined) {
    if (!otherWritePossible(c, b, s, e, vs)) out.violation('conflict-without-cause', [ref], `${ref} (${op.kind}, no precondition) got 409 for ${c.key}, but no other write to it could happen during the request (${s}..${e})`);
    return;
  }
  const i = Versions.indexOf(c, op.precondition);
  if (i < 0 || !c.versions[i]!.present) return;
  const x = c.versions[i]!;
  const changedDuring = b.upper[i]!.t >= s || (i + 1 < c.versions.length && b.lower[i + 1]!.t <= e);
  const unseen = vs.hidden(c.key, ['create', 'update', 'delete'], e) || vs.migrationBy(e);
  if (!changedDuring && !unseen) {
    const who = x.writer ? ` (${opRef(x.writer)})` : '';
    out.violation('conflict-without-cause', [ref, ...(x.writer ? [opRef(x.writer)] : [])], `${ref} (${op.kind}) got 409 for precondition rv ${op.precondition} of ${c.key}, but rv ${x.rv}${who} was its version for the whole request (${s}..${e})`);
  }
}

/** Acknowledged writes a restore was expected to lose: after its backup revision, before it. */
function countExpectedLost(ops: Operation[], vs: Versions, epochs: Epochs): number {
  let n = 0;
  for (const op of ops) {
    if (op.kind !== 'create' && op.kind !== 'update' && op.kind !== 'delete') continue;
    if (op.outcome.result !== 'ok') continue;
    const v = vs.placement.get(op);
    if (!v || v.epoch + 1 >= epochs.count) continue;
    const r = epochs.restoreOf(v.epoch + 1);
    if (v.rv > r.backupRevision || epochs.home(r.backupRevision, v.epoch + 1) < v.epoch) n++;
  }
  return n;
}

