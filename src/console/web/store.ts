/**
 * The page's copy of the console's state: one EventSource on /api/stream. The server sends every
 * view on connect, then each view again when it changes, and a `point` per sample for the charts.
 * EventSource reconnects by itself after a drop (the server asks for 2 s); the page says so
 * meanwhile and gets everything again when it is back.
 */
import type { HistoryView, OverviewView } from '../views.js';
import type { ActionRecord, BackupsView, DefragView, EncryptionView } from '../wire.js';

export interface Meta {
  user: string;
  etcd?: { home: string; members: string[] };
  historyMs: number;
  sampleIntervalMs: number;
}

export interface State {
  connected: boolean;
  /** When the stream dropped, while it is down. */
  lostAt?: number;
  /** The server refused the stream: no reconnecting. */
  ended?: boolean;
  meta?: Meta;
  overview?: OverviewView;
  history?: HistoryView;
  encryption?: EncryptionView;
  backups?: BackupsView;
  defrag?: DefragView;
  actions: ActionRecord[];
}

type Listener = (s: State) => void;

/** What the server put in the page: the overview, so the first render needs no round trip. */
function initial(): Partial<State> {
  try {
    const v = JSON.parse(document.getElementById('initial-state')?.textContent ?? '{}') as Partial<State>;
    return { meta: v.meta ?? undefined, overview: v.overview ?? undefined };
  } catch {
    return {};
  }
}

let state: State = { connected: false, actions: [], ...initial() };
const listeners = new Set<Listener>();

function update(patch: Partial<State>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l(state);
}

export function getState(): State {
  return state;
}

export function subscribe(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

interface Point {
  t: number;
  dbSize: Record<string, number | null>;
  inUse: Record<string, number | null>;
  writes: number | null;
  markers: HistoryView['markers'];
}

function appendPoint(h: HistoryView, p: Point): HistoryView {
  if (h.t.length && h.t[h.t.length - 1]! >= p.t) return h;
  const cutoff = p.t - (state.meta?.historyMs ?? 3_600_000) / 1000;
  let drop = 0;
  while (drop < h.t.length && h.t[drop]! < cutoff) drop++;
  const col = (cols: Record<string, Array<number | null>>, v: Record<string, number | null>) =>
    Object.fromEntries(h.members.map((m) => [m, [...(cols[m] ?? []).slice(drop), v[m] ?? null]]));
  return {
    members: h.members,
    t: [...h.t.slice(drop), p.t],
    dbSize: col(h.dbSize, p.dbSize),
    inUse: col(h.inUse, p.inUse),
    writes: [...h.writes.slice(drop), p.writes],
    markers: [...h.markers.filter((m) => m.t / 1000 >= cutoff), ...p.markers],
  };
}

export function connect(): void {
  const es = new EventSource('/api/stream');
  const on = <K extends keyof State>(name: string, key: K) =>
    es.addEventListener(name, (e) => update({ [key]: JSON.parse((e as MessageEvent).data) } as Partial<State>));
  on('meta', 'meta');
  on('overview', 'overview');
  on('history', 'history');
  on('encryption', 'encryption');
  on('backups', 'backups');
  on('defrag', 'defrag');
  on('actions', 'actions');
  es.addEventListener('point', (e) => {
    const p = JSON.parse((e as MessageEvent).data) as Point;
    if (state.history) update({ history: appendPoint(state.history, p) });
  });
  es.onopen = () => update({ connected: true, lostAt: undefined, ended: false });
  // A dropped stream comes back by itself; a refused one (401: the console was restarted and its
  // sessions are gone) is closed for good, and only a new login link helps.
  es.onerror = () => update({ connected: false, lostAt: state.lostAt ?? Date.now(), ended: es.readyState === EventSource.CLOSED });
}

const csrf = () => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';

/** Starts an action; resolves with its record, or throws with the server's one-line reason. */
export async function act(kind: string, body: Record<string, unknown> = {}): Promise<ActionRecord> {
  const r = await fetch(`/api/actions/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const json = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(json.error ?? `HTTP ${r.status}`);
  return json as ActionRecord;
}
