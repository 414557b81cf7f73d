/**
 * The traffic of a robustness run: clients that create, update (compare-and-swap on
 * resourceVersion, or unconditionally), delete, get and list (paginated) ConfigMaps, and watchers
 * that list, watch from the list's resourceVersion, resume from their last one after a disconnect
 * and relist after a 410. Every request and answer goes into the Recorder in the history format
 * (README.md). Every loop is bounded in count and time.
 */
import { ClientNodeApi, HttpApi, type Api, type Reply, type Target, type WatchLine } from './api.js';
import { objectKey, outcomeOfStatus, uniqueValue, type ListItem, type ListOp, type Operation, type Scope, type WatchEvent, type WatchStream } from './history.js';
import type { Recorder } from './recorder.js';
import { rng } from './simulate.js';

export interface TrafficOptions {
  seed: number;
  /** Namespaces only this traffic writes (created by the caller). */
  namespaces: string[];
  keysPerNamespace: number;
  /** targets[0] is the load balancer, the rest single API servers. */
  targets: Target[];
  clients: number;
  watchers: number;
  /** A client gives up on a request after this long: its outcome is then unknown. */
  requestTimeoutMs: number;
  /** Pause between a client's requests, uniformly in [min, max]. */
  thinkMs: [number, number];
  pageSize: number;
  /** Upper bound on each client's requests, whatever the duration. */
  maxOpsPerClient: number;
  log(line: string): void;
}

export const DEFAULT_TRAFFIC: Omit<TrafficOptions, 'seed' | 'namespaces' | 'targets' | 'log'> = {
  keysPerNamespace: 8,
  clients: 8,
  watchers: 4,
  requestTimeoutMs: 15_000,
  thinkMs: [20, 120],
  pageSize: 3,
  maxOpsPerClient: 50_000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a client believes about a key: its last resourceVersion seen, and whether it exists. */
interface Belief {
  rv?: number;
  present: boolean;
}

export class Traffic {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly apis: Api[] = [];
  private readonly openStreams = new Set<() => void>();
  private readonly droppers = new Set<() => void>();
  private readonly keys: string[];

  constructor(
    private readonly rec: Recorder,
    private readonly o: TrafficOptions,
  ) {
    this.keys = o.namespaces.flatMap((ns) => Array.from({ length: o.keysPerNamespace }, (_, i) => objectKey(ns, `k${i}`)));
  }

  private api(flavor: number, target: Target): Api {
    const a = flavor % 2 === 0 ? new ClientNodeApi(target) : new HttpApi(target);
    this.apis.push(a);
    return a;
  }

  /** Half the clients through the load balancer, half pinned to one API server; client-node and plain HTTP alternate. */
  start(): void {
    const [lb, ...servers] = this.o.targets;
    const pinned = (i: number) => (servers.length ? servers[i % servers.length]! : lb!);
    for (let i = 0; i < this.o.clients; i++) {
      const target = i < Math.ceil(this.o.clients / 2) ? lb! : pinned(i);
      this.loops.push(this.client(`c${i}`, this.api(i, target)));
    }
    for (let j = 0; j < this.o.watchers; j++) {
      const ns = this.o.namespaces[j % this.o.namespaces.length]!;
      // The first watcher follows one object (a field selector), the others a namespace.
      const scope: Scope = j === 0 ? { namespace: ns, name: 'k0' } : { namespace: ns };
      const target = j % 2 === 0 ? lb! : pinned(j);
      this.loops.push(this.watcher(`w${j}`, this.api(j + 1, target), scope));
    }
    this.o.log(`traffic: ${this.o.clients} clients, ${this.o.watchers} watchers on ${this.keys.length} keys in ${this.o.namespaces.join(', ')}`);
  }

  /** Stops every loop: each finishes its request in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const close of this.openStreams) close();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, this.o.requestTimeoutMs * 2 + 5000)));
    await Promise.race([Promise.all(this.loops), bound]);
    clearTimeout(timer);
  }

  close(): void {
    for (const a of this.apis) a.close();
  }

  /**
   * Cuts every open watch stream, as a network blip would: each watcher resumes from its last
   * resourceVersion, which after a compaction is often compacted already (410, then a relist).
   */
  dropWatches(): number {
    const n = this.droppers.size;
    for (const drop of this.droppers) drop();
    return n;
  }

  /**
   * The closing lists, one per namespace, after `settleMs` (longer than the API server's request
   * timeout, so no write is still in flight). Retried until one answers, within `budgetMs`.
   */
  async finalLists(settleMs: number, budgetMs = 180_000): Promise<boolean> {
    await sleep(settleMs);
    const api = this.api(1, this.o.targets[0]!);
    const deadline = Date.now() + budgetMs;
    let all = true;
    for (const ns of this.o.namespaces) {
      let ok = false;
      for (let attempt = 0; !ok && attempt < 30 && Date.now() < deadline; attempt++) {
        const op = await this.list('final', api, { namespace: ns }, true);
        ok = op.outcome.result === 'ok';
        if (!ok) await sleep(2000);
      }
      if (!ok) this.o.log(`final list of ${ns} never succeeded`);
      all &&= ok;
    }
    return all;
  }

  // ---- clients ----

  private async client(name: string, api: Api): Promise<void> {
    const rand = rng(this.o.seed * 7919 + hash(name));
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const beliefs = new Map<string, Belief>();
    for (let n = 0; n < this.o.maxOpsPerClient && !this.stopping; n++) {
      const key = pick(this.keys);
      const b = beliefs.get(key);
      const r = rand();
      let op: Operation;
      // Mostly what a controller does: read, then compare-and-swap; creates for keys believed absent.
      if (r < 0.22) op = await this.get(name, api, key);
      else if (r < 0.32) op = await this.list(name, api, { namespace: key.split('/')[0]! }, false);
      else if (r < 0.44 || (b && !b.present && r < 0.8)) op = await this.create(name, api, key);
      else if (r < 0.80) op = await this.update(name, api, key, b?.rv);
      else if (r < 0.86) op = await this.update(name, api, key, undefined);
      else if (r < 0.94) op = await this.remove(name, api, key, b?.rv);
      else op = await this.remove(name, api, key, undefined);
      learn(beliefs, op);
      const [lo, hi] = this.o.thinkMs;
      await sleep(lo + rand() * (hi - lo));
    }
  }

  /** Runs one request against the client's own timeout; the times bracket it. */
  private async timed(run: (signal: AbortSignal) => Promise<Reply>): Promise<{ start: number; end: number; reply: Reply }> {
    const start = this.rec.now();
    const reply = await run(AbortSignal.timeout(this.o.requestTimeoutMs));
    return { start, end: this.rec.now(), reply };
  }

  private async create(client: string, api: Api, key: string): Promise<Operation> {
    const seq = this.rec.seq(client);
    const value = uniqueValue(client, seq);
    const { start, end, reply } = await this.timed((s) => api.create(ref(key), value, s));
    const op: Operation = { kind: 'create', client, seq, start, end, key, value, outcome: writeOutcome(reply) };
    this.rec.op(op);
    return op;
  }

  private async update(client: string, api: Api, key: string, precondition: number | undefined): Promise<Operation> {
    const seq = this.rec.seq(client);
    const value = uniqueValue(client, seq);
    const { start, end, reply } = await this.timed((s) => api.update(ref(key), value, precondition === undefined ? undefined : String(precondition), s));
    const op: Operation = { kind: 'update', client, seq, start, end, key, value, ...(precondition === undefined ? {} : { precondition }), outcome: writeOutcome(reply) };
    this.rec.op(op);
    return op;
  }

  private async remove(client: string, api: Api, key: string, precondition: number | undefined): Promise<Operation> {
    const seq = this.rec.seq(client);
    const { start, end, reply } = await this.timed((s) => api.remove(ref(key), precondition === undefined ? undefined : String(precondition), s));
    let outcome: Operation['outcome'];
    if ('error' in reply) outcome = { result: 'unknown', error: reply.error };
    else if (reply.status >= 200 && reply.status < 300) {
      const rv = Number(reply.body?.metadata?.resourceVersion);
      // A Status instead of the object (an undecryptable value deleted by key) carries no revision.
      outcome = reply.body?.kind === 'ConfigMap' && rv > 0 ? { result: 'ok', rv, value: reply.body.data?.v } : { result: 'unknown', error: `HTTP ${reply.status} without the deleted object` };
    } else outcome = outcomeOfStatus(reply.status, reply.body?.reason, reply.body?.message);
    const op: Operation = { kind: 'delete', client, seq, start, end, key, ...(precondition === undefined ? {} : { precondition }), outcome } as Operation;
    this.rec.op(op);
    return op;
  }

  private async get(client: string, api: Api, key: string): Promise<Operation> {
    const seq = this.rec.seq(client);
    const { start, end, reply } = await this.timed((s) => api.get(ref(key), s));
    let outcome: Operation['outcome'];
    if ('error' in reply) outcome = { result: 'unknown', error: reply.error };
    else if (reply.status === 200) outcome = { result: 'ok', rv: Number(reply.body?.metadata?.resourceVersion), value: reply.body?.data?.v };
    else outcome = outcomeOfStatus(reply.status, reply.body?.reason, reply.body?.message);
    const op: Operation = { kind: 'get', client, seq, start, end, key, outcome } as Operation;
    this.rec.op(op);
    return op;
  }

  /** A paginated list as one operation: the first page's start to the last page's end. */
  private async list(client: string, api: Api, scope: Scope, final: boolean): Promise<ListOp> {
    const seq = this.rec.seq(client);
    const start = this.rec.now();
    const items: ListItem[] = [];
    let rv = 0;
    let cont: string | undefined;
    let pages = 0;
    let outcome: ListOp['outcome'] | undefined;
    do {
      const reply = await api.list({ namespace: scope.namespace!, name: scope.name, limit: this.o.pageSize, continue: cont }, AbortSignal.timeout(this.o.requestTimeoutMs));
      pages++;
      if ('error' in reply) outcome = { result: 'unknown', error: reply.error };
      else if (reply.status !== 200) outcome = outcomeOfStatus(reply.status, reply.body?.reason, reply.body?.message);
      else {
        if (pages === 1) rv = Number(reply.body?.metadata?.resourceVersion);
        for (const it of reply.body?.items ?? []) {
          items.push({ key: objectKey(it.metadata.namespace ?? scope.namespace, it.metadata.name), rv: Number(it.metadata.resourceVersion), value: it.data?.v });
        }
        cont = reply.body?.metadata?.continue || undefined;
      }
    } while (!outcome && cont && pages < 1000);
    const op: ListOp = { kind: 'list', client, seq, start, end: this.rec.now(), scope, limit: this.o.pageSize, pages, ...(final ? { final } : {}), outcome: outcome ?? { result: 'ok', rv, items } };
    this.rec.op(op);
    return op;
  }

  // ---- watchers ----

  private async watcher(name: string, api: Api, scope: Scope): Promise<void> {
    const rand = rng(this.o.seed * 104_729 + hash(name));
    let from: number | undefined;
    let prev: string | undefined;
    for (let n = 0; n < 100_000 && !this.stopping; n++) {
      if (from === undefined) {
        const l = await this.list(name, api, scope, false);
        if (l.outcome.result !== 'ok') {
          await sleep(500 + rand() * 1000);
          continue;
        }
        from = l.outcome.rv;
      }
      const w = await this.stream(`${name}.${n}`, name, api, scope, from, prev, 15 + Math.floor(rand() * 30));
      prev = w.id;
      if (w.ending.kind === 'gone') from = undefined;
      else from = w.events.reduce((m, e) => Math.max(m, e.rv), from);
      // Back off after a stream that failed at once (a server down, a partition).
      if (w.ending.kind === 'error' && w.end - w.start < 2000) await sleep(300 + rand() * 700);
    }
  }

  private stream(id: string, client: string, api: Api, scope: Scope, startRv: number, resumeOf: string | undefined, timeoutSeconds: number): Promise<WatchStream> {
    const w: WatchStream = { id, client, scope, startRv, start: this.rec.now(), end: 0, ...(resumeOf ? { resumeOf } : {}), events: [], ending: { kind: 'closed' } };
    return new Promise((resolve) => {
      let done = false;
      const finish = (ending: WatchStream['ending']) => {
        if (done) return;
        done = true;
        w.end = this.rec.now();
        w.ending = ending;
        clearTimeout(watchdog);
        this.openStreams.delete(closeNow);
        this.droppers.delete(drop);
        handle.abort();
        this.rec.watch(w);
        resolve(w);
      };
      const closeNow = () => finish({ kind: 'closed' });
      const drop = () => finish({ kind: 'error', message: 'dropped by the scenario' });
      // A partition swallows packets: a stream that outlives its own timeout has stalled.
      const watchdog = setTimeout(() => finish({ kind: 'error', message: 'stalled: no end after the watch timeout' }), timeoutSeconds * 1000 + 15_000);
      this.openStreams.add(closeNow);
      this.droppers.add(drop);
      const handle = api.watch(
        { namespace: scope.namespace!, name: scope.name, resourceVersion: String(startRv), timeoutSeconds },
        {
          opened: (status, body) => {
            if (status === 410) finish({ kind: 'gone', message: body?.message });
            else if (status !== 200) finish({ kind: 'error', message: `HTTP ${status}${body?.reason ? ` ${body.reason}` : ''}` });
          },
          line: (l: WatchLine) => {
            if (done) return;
            const at = this.rec.now();
            const o = l.object ?? {};
            if (l.type === 'ERROR') {
              if (o.code === 410 || o.reason === 'Expired' || o.reason === 'Gone') finish({ kind: 'gone', message: o.message });
              else finish({ kind: 'error', message: `ERROR event: ${o.code ?? ''} ${o.reason ?? ''} ${o.message ?? ''}`.trim() });
              return;
            }
            const rv = Number(o.metadata?.resourceVersion);
            if (l.type === 'BOOKMARK') {
              w.events.push({ type: 'BOOKMARK', rv, at });
              return;
            }
            if (l.type !== 'ADDED' && l.type !== 'MODIFIED' && l.type !== 'DELETED') return;
            const ev: WatchEvent = { type: l.type, key: objectKey(o.metadata?.namespace ?? scope.namespace, o.metadata?.name), rv, value: o.data?.v, at };
            w.events.push(ev);
          },
          ended: (error) => finish(error ? { kind: 'error', message: error } : { kind: 'closed' }),
        },
      );
      if (this.stopping) closeNow();
    });
  }
}

const ref = (key: string) => {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

function writeOutcome(reply: Reply): Operation['outcome'] {
  if ('error' in reply) return { result: 'unknown', error: reply.error };
  if (reply.status >= 200 && reply.status < 300) {
    const rv = Number(reply.body?.metadata?.resourceVersion);
    return rv > 0 ? { result: 'ok', rv } : { result: 'unknown', error: `HTTP ${reply.status} without a resourceVersion` };
  }
  return outcomeOfStatus(reply.status, reply.body?.reason, reply.body?.message);
}

/** Updates a client's beliefs from the answer it got. */
function learn(beliefs: Map<string, Belief>, op: Operation): void {
  const o = op.outcome;
  if (op.kind === 'list') {
    if (o.result !== 'ok') return;
    const seen = new Set<string>();
    for (const it of (o as { items: ListItem[] }).items) {
      beliefs.set(it.key, { rv: it.rv, present: true });
      seen.add(it.key);
    }
    for (const [k, b] of beliefs) if (!seen.has(k) && k.startsWith(`${op.scope.namespace}/`)) b.present = false;
    return;
  }
  if (o.result === 'ok') {
    beliefs.set(op.key, op.kind === 'delete' ? { present: false } : { rv: o.rv, present: true });
  } else if (o.result === 'failed') {
    if (o.code === 404) beliefs.set(op.key, { present: false });
    if (o.code === 409 && op.kind === 'create') beliefs.set(op.key, { ...beliefs.get(op.key), present: true });
    // A conflict: what we knew is stale; the next update goes unconditional or after a read.
    if (o.code === 409 && op.kind !== 'create') beliefs.set(op.key, { present: true });
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
