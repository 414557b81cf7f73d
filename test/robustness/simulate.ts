/**
 * Histories of a simulated linearizable register store with etcd's revisions, to test the checker
 * on volume: whatever this produces is correct by construction, so the checker must accept it,
 * and a mutation of it must be rejected. In-memory and seeded; it says nothing about etcd itself.
 *
 * Each operation takes effect at one moment inside its request (after it, for some unknown
 * outcomes; never, for others); writes to different keys sometimes share a revision, as the API
 * server's group commit makes them. Watchers list, watch from the list's rv, resume after a
 * disconnect, and relist after a 410 that a recorded compaction explains.
 */
import { uniqueValue, type History, type ListItem, type Operation, type Revision, type SpecialEvent, type WatchEvent, type WatchStream } from './history.js';

export interface SimOptions {
  seed: number;
  clients?: number;
  keys?: number;
  opsPerClient?: number;
  watchers?: number;
  /** Share of writes whose outcome is unknown (half of them are applied, possibly late). */
  unknownRate?: number;
}

/** mulberry32: small, fast, good enough to pick test cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Planned {
  op: Operation;
  /** When it takes effect; undefined: an unknown outcome that never applies. */
  at?: number;
  unknown: boolean;
}

interface Change {
  rv: Revision;
  key: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  value: string;
  at: number;
}

export function simulate(o: SimOptions): History {
  const rand = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const nClients = o.clients ?? 4;
  const keys = Array.from({ length: o.keys ?? 3 }, (_, i) => `ns/k${i}`);
  const unknownRate = o.unknownRate ?? 0.1;
  const ops: Operation[] = [];
  const planned: Planned[] = [];
  let horizon = 0;

  for (let c = 0; c < nClients; c++) {
    const client = `c${c}`;
    let t = rand() * 5;
    for (let seq = 0; seq < (o.opsPerClient ?? 30); seq++) {
      const start = t + rand() * 3;
      const end = start + 1 + rand() * 12;
      t = end;
      const key = pick(keys);
      const kind = pick(['create', 'update', 'update', 'delete', 'get', 'get', 'list'] as const);
      const write = kind === 'create' || kind === 'update' || kind === 'delete';
      const unknown = write && rand() < unknownRate;
      let at: number | undefined = start + rand() * (end - start);
      if (unknown) at = rand() < 0.5 ? start + rand() * (end - start + 20) : undefined;
      const base = { client, seq, start, end };
      const op: Operation =
        kind === 'list'
          ? { ...base, kind, scope: { namespace: 'ns' }, outcome: { result: 'unknown', error: 'pending' } }
          : kind === 'get'
            ? { ...base, kind, key, outcome: { result: 'unknown', error: 'pending' } }
            : kind === 'delete'
              ? { ...base, kind, key, outcome: { result: 'unknown', error: 'pending' } }
              : { ...base, kind, key, value: uniqueValue(client, seq), outcome: { result: 'unknown', error: 'pending' } };
      ops.push(op);
      planned.push({ op, at, unknown });
      horizon = Math.max(horizon, end + 25);
    }
  }

  // Apply in effect order.
  let rev = 1;
  const state = new Map<string, { value: string; rv: Revision }>();
  const known = new Map<string, Revision>();
  const changes: Change[] = [];
  let last: { at: number; key: string; rvShared: boolean } | undefined;
  // A client picks its CAS precondition when it sends the request, from what it learnt so far.
  const steps = planned.flatMap((p) => [{ t: p.op.start, p, begin: true }, ...(p.at === undefined ? [] : [{ t: p.at, p, begin: false }])]);
  steps.sort((a, b) => a.t - b.t || Number(b.begin) - Number(a.begin));
  for (const { p, begin } of steps) {
    if (begin) {
      const op = p.op;
      if ((op.kind === 'update' || op.kind === 'delete') && rand() < 0.6) op.precondition = known.get(`${op.client}|${op.key}`);
      continue;
    }
    const op = p.op;
    const at = p.at!;
    const learn = (rv: Revision) => {
      if (!p.unknown && op.kind !== 'list') known.set(`${op.client}|${op.key}`, rv);
    };
    if (op.kind === 'get') {
      const s = state.get(op.key);
      op.outcome = s ? { result: 'ok', rv: s.rv, value: s.value } : { result: 'failed', code: 404, reason: 'NotFound' };
      if (s) learn(s.rv);
      last = undefined;
      continue;
    }
    if (op.kind === 'list') {
      const items: ListItem[] = [...state.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, s]) => ({ key, rv: s.rv, value: s.value }));
      op.outcome = { result: 'ok', rv: rev, items };
      last = undefined;
      continue;
    }
    const cur = state.get(op.key);
    let refusal: { code: number; reason: string } | undefined;
    if (op.kind === 'create' && cur) refusal = { code: 409, reason: 'AlreadyExists' };
    if (op.kind !== 'create' && !cur) refusal = { code: 404, reason: 'NotFound' };
    if (op.kind !== 'create' && cur && op.precondition !== undefined && op.precondition !== cur.rv) refusal = { code: 409, reason: 'Conflict' };
    if (refusal) {
      op.outcome = p.unknown ? { result: 'unknown', error: 'timeout' } : { result: 'failed', ...refusal };
      last = undefined;
      continue;
    }
    // Group commit: a write right after another one to a different key may share its revision.
    const share = last && !last.rvShared && last.key !== op.key && op.start <= last.at && rand() < 0.3;
    if (!share) rev++;
    last = { at: share ? last!.at : at, key: op.key, rvShared: !!share };
    const when = last.at;
    if (op.kind === 'delete') {
      state.delete(op.key);
      changes.push({ rv: rev, key: op.key, type: 'DELETED', value: cur!.value, at: when });
      op.outcome = p.unknown ? { result: 'unknown', error: 'timeout' } : { result: 'ok', rv: rev, value: cur!.value };
    } else {
      state.set(op.key, { value: op.value, rv: rev });
      changes.push({ rv: rev, key: op.key, type: op.kind === 'create' ? 'ADDED' : 'MODIFIED', value: op.value, at: when });
      op.outcome = p.unknown ? { result: 'unknown', error: 'timeout' } : { result: 'ok', rv: rev };
    }
    learn(rev);
  }
  for (const p of planned) if (p.at === undefined) p.op.outcome = { result: 'unknown', error: 'timeout' };

  const watches: WatchStream[] = [];
  const specials: SpecialEvent[] = [];
  const revAt = (t: number) => changes.filter((c) => c.at <= t).reduce((m, c) => Math.max(m, c.rv), 1);
  const stateAt = (t: number): ListItem[] => {
    const s = new Map<string, ListItem>();
    for (const c of changes) {
      if (c.at > t) break;
      if (c.type === 'DELETED') s.delete(c.key);
      else s.set(c.key, { key: c.key, rv: c.rv, value: c.value });
    }
    return [...s.values()].sort((a, b) => a.key.localeCompare(b.key));
  };
  for (let w = 0; w < (o.watchers ?? 2); w++) {
    const client = `w${w}`;
    let seq = 0;
    let t = rand() * 10;
    const list = (): Revision => {
      const start = t;
      const end = t + 1 + rand();
      const at = (start + end) / 2;
      const rv = revAt(at);
      ops.push({ kind: 'list', client, seq: seq++, start, end, scope: { namespace: 'ns' }, outcome: { result: 'ok', rv, items: stateAt(at) } });
      t = end;
      return rv;
    };
    let from = list();
    let prev: string | undefined;
    let n = 0;
    while (t < horizon) {
      const id = `${client}-${n++}`;
      const start = t + 0.1;
      const end = Math.min(horizon, start + 10 + rand() * 40);
      const events: WatchEvent[] = [];
      let at = start;
      for (const [ci, c] of changes.entries()) {
        if (c.rv <= from) continue;
        // One revision's events arrive together, as etcd sends them in one watch response.
        const sameRevision = events.length > 0 && events[events.length - 1]!.rv === c.rv;
        if (!sameRevision) at = Math.max(at, c.at) + rand() * 2;
        if (at > end) break;
        events.push({ type: c.type, key: c.key, rv: c.rv, value: c.value, at });
        // Progress at this change's revision, unless another change shares it (group commit).
        if (rand() < 0.1 && changes[ci + 1]?.rv !== c.rv) events.push({ type: 'BOOKMARK', rv: c.rv, at });
      }
      const lastRv = events.reduce((m, e) => Math.max(m, e.rv), from);
      const gone = rand() < 0.2 && end < horizon;
      watches.push({ id, client, scope: { namespace: 'ns' }, startRv: from, start, end, resumeOf: prev, events, ending: gone ? { kind: 'gone', message: 'too old resource version' } : { kind: 'closed' } });
      prev = id;
      t = end + 0.1;
      if (gone) {
        specials.push({ kind: 'compaction', at: end - 0.05, revision: lastRv + 1 });
        from = list();
      } else {
        from = lastRv;
      }
    }
  }

  const finalAt = horizon + 50;
  ops.push({ kind: 'list', client: 'final', seq: 0, start: finalAt, end: finalAt + 1, scope: { namespace: 'ns' }, final: true, outcome: { result: 'ok', rv: rev, items: stateAt(Infinity) } });
  return { ops, watches, specials };
}
