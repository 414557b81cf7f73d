/**
 * Global rules on revisions, which etcd hands out in one total order:
 * - rv-realtime: a write (list) that began after another write, list or received watch event
 *   ended gets a larger (not smaller) revision. Pairs across a restore are restore-bump's.
 * - rv-regression: each client's writes and lists never go below what it saw before, watch
 *   events included (a watch may lag behind the client's own requests: events are not checked
 *   against requests, only requests against events already received).
 * - restore-bump: every revision handed out after a restore exceeds every one handed out before.
 * Object resourceVersions from gets and list items are not revisions handed out: an unchanged
 * object keeps its old one.
 */
import type { Epochs, RevisionPoint } from './epochs.js';
import { isWrite, opRef, type History } from './history.js';
import type { Findings } from './report.js';
import type { Versions } from './versions.js';

export function checkRevisions(h: History, points: RevisionPoint[], vs: Versions, epochs: Epochs, out: Findings): void {
  realtime(points, vs, epochs, out);
  perClient(h, points, out);
  bumps(points, epochs, out);
}

/** Writes whose outcome was unknown but whose revision a read showed: checked as late writes. */
function observedUnknownWrites(vs: Versions): RevisionPoint[] {
  const out: RevisionPoint[] = [];
  for (const [w, v] of vs.placement) {
    if (w.outcome.result !== 'unknown' || v.kind === 'rewrite') continue;
    out.push({ start: w.start, end: Infinity, rv: v.rv, client: w.client, ref: opRef(w), kind: 'write', key: w.key });
  }
  return out;
}

function realtime(points: RevisionPoint[], vs: Versions, epochs: Epochs, out: Findings): void {
  const rs = epochs.restores;
  const segmentOf = (p: RevisionPoint): number | undefined => {
    let s = 0;
    for (const [j, r] of rs.entries()) {
      if (p.start > r.end) s = j + 1;
      else if (p.end < r.start) return s;
      else return undefined;
    }
    return s;
  };
  const segments = new Map<number, { as: RevisionPoint[]; bs: RevisionPoint[] }>();
  const seg = (s: number) => {
    let x = segments.get(s);
    if (!x) segments.set(s, (x = { as: [], bs: [] }));
    return x;
  };
  for (const p of points) {
    const s = segmentOf(p);
    if (s === undefined) continue;
    seg(s).as.push(p);
    if (p.kind !== 'event') seg(s).bs.push(p);
  }
  for (const p of observedUnknownWrites(vs)) {
    const s = segmentOf({ ...p, end: p.start });
    if (s !== undefined) seg(s).bs.push(p);
  }
  for (const { as, bs } of segments.values()) {
    as.sort((a, b) => a.end - b.end);
    bs.sort((a, b) => a.start - b.start);
    // The largest revision ended so far, and the largest from another client than that one's.
    let best: RevisionPoint | undefined;
    let other: RevisionPoint | undefined;
    let k = 0;
    for (const b of bs) {
      while (k < as.length && as[k]!.end < b.start) {
        const a = as[k++]!;
        if (!best || a.rv > best.rv) {
          if (best && best.client !== a.client) other = best;
          best = a;
        } else if (a.client !== best.client && (!other || a.rv > other.rv)) {
          other = a;
        }
      }
      const a = best && best.client !== b.client ? best : other;
      if (!a) continue;
      const bad = b.kind === 'write' ? b.rv <= a.rv : b.rv < a.rv;
      if (!bad) continue;
      const what = b.kind === 'write' ? 'wrote at' : 'listed at';
      out.violation('rv-realtime', [b.ref, a.ref], `${b.ref} began at ${b.start} and ${what} rv ${b.rv}, but ${a.ref} had already ${a.kind === 'event' ? 'received' : 'got'} rv ${a.rv} by ${a.end}`);
    }
  }
}

function perClient(h: History, points: RevisionPoint[], out: Findings): void {
  const events = new Map<string, RevisionPoint[]>();
  for (const p of points) {
    if (p.kind !== 'event') continue;
    const l = events.get(p.client) ?? [];
    l.push(p);
    events.set(p.client, l);
  }
  const byClient = new Map<string, typeof h.ops>();
  for (const op of h.ops) {
    const l = byClient.get(op.client) ?? [];
    l.push(op);
    byClient.set(op.client, l);
  }
  for (const [client, ops] of byClient) {
    ops.sort((a, b) => a.seq - b.seq);
    const evs = (events.get(client) ?? []).sort((a, b) => a.end - b.end);
    let k = 0;
    let max: { rv: number; ref: string } | undefined;
    const see = (rv: number, ref: string) => {
      if (!max || rv > max.rv) max = { rv, ref };
    };
    for (const op of ops) {
      while (k < evs.length && evs[k]!.end < op.start) see(evs[k]!.rv, evs[k++]!.ref);
      if (op.outcome.result !== 'ok' || !(isWrite(op) || op.kind === 'list')) continue;
      const rv = op.outcome.rv;
      const ref = opRef(op);
      if (max && (isWrite(op) ? rv <= max.rv : rv < max.rv)) {
        out.violation('rv-regression', [ref, max.ref], `client ${client}: ${ref} ${isWrite(op) ? 'wrote' : 'listed'} at rv ${rv} after seeing rv ${max.rv} (${max.ref})`);
      }
      see(rv, ref);
    }
  }
}

function bumps(points: RevisionPoint[], epochs: Epochs, out: Findings): void {
  const rs = epochs.restores;
  for (const [j, r] of rs.entries()) {
    const next = rs[j + 1];
    let min: RevisionPoint | undefined;
    for (const p of points) {
      if (p.start > r.end && (!next || p.end < next.start) && (!min || p.rv < min.rv)) min = p;
    }
    if (min && r.maxBeforeRef && min.rv <= r.maxBefore) {
      out.violation('restore-bump', [r.ref, r.maxBeforeRef, min.ref], `after ${r.ref}, ${min.ref} got rv ${min.rv}, not above rv ${r.maxBefore} handed out before it (${r.maxBeforeRef}): revisions were not bumped`);
    }
  }
}
