/**
 * The console's live state: the members' samples (sampler.ts), the API objects it watches, and
 * the views built from them (views.ts, pages.ts), pushed to every open page by Server-Sent
 * Events. A change to a watched object, a tick or an action refreshes only the views it touches,
 * at most once per DEBOUNCE_MS; a watch that ends (an API server restarting in a rollout) is
 * opened again after a pause, and the views keep their last good value meanwhile.
 */
import type { ServerResponse } from 'node:http';
import type { Etcd3 } from 'etcd3';
import { etcdClient, type Connection } from '../etcd/connection.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { CORE, CONFIG, type KubeClient, type ResourceRef } from '../kube/client.js';
import { OPERATOR_NAMESPACE } from '../operator/context.js';
import { BACKUPS, ETCDBACKUPS } from '../operator/backup.js';
import { KEY_NAMESPACE } from '../operator/encryption/keys.js';
import { errorMessage } from '../util/errors.js';
import { backupsView, defragView, encryptionView, type PageContext } from './pages.js';
import { Sampler, homeMembers, type Marker, type Tick } from './sampler.js';
import { historyView, memberRows, operatorLine, type OverviewView } from './views.js';
import type { ActionRecord, DefragView } from './wire.js';

export type Section = 'overview' | 'history' | 'encryption' | 'backups' | 'defrag' | 'actions' | 'meta';

const DEBOUNCE_MS = 300;
const WATCH_RETRY_MS = 2000;
/** Backups on disk change without an API event (the CLI, retention): looked at this often too. */
const BACKUPS_EVERY_MS = 30_000;

export interface HubOptions {
  kube: KubeClient;
  /** etcd, when the console has its credentials (a home, or the home beside a --kubeconfig). */
  etcd?: { conn: Connection; home: string; cluster: ClusterFile };
  sampleIntervalMs: number;
  user: string;
}

interface Watched {
  ref: ResourceRef;
  labelSelector?: string;
  sections: Section[];
}

const OPERATOR_OBJECTS: ResourceRef[] = [
  { group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers' },
  { group: 'operator.openshift.io', version: 'v1', resource: 'openshiftapiservers' },
  { group: 'operator.openshift.io', version: 'v1', resource: 'authentications' },
  { group: 'operator.openshift.io', version: 'v1', resource: 'etcds' },
];

const WATCHED: Watched[] = [
  ...OPERATOR_OBJECTS.map((ref) => ({ ref, sections: ['overview', 'encryption', 'defrag'] as Section[] })),
  { ref: CONFIG('apiservers'), sections: ['encryption'] },
  // Keys come and go by these Secrets; the hub never reads their data (encryptionReport parses
  // them server-side and reports names, modes and times only).
  { ref: CORE('secrets', KEY_NAMESPACE), labelSelector: 'encryption.apiserver.operator.openshift.io/component', sections: ['encryption'] },
  { ref: CORE('configmaps', OPERATOR_NAMESPACE), sections: ['encryption'] },
  { ref: CORE('events', OPERATOR_NAMESPACE), sections: ['defrag'] },
  { ref: BACKUPS, sections: ['backups'] },
  { ref: ETCDBACKUPS, sections: ['backups'] },
];

export class Hub {
  readonly sampler?: Sampler;
  private readonly values = new Map<Section, unknown>();
  private readonly clients = new Set<ServerResponse>();
  private readonly pending = new Set<Section>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly watches: Array<{ close(): void }> = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;
  private etcd?: Etcd3;
  readonly actions: ActionRecord[] = [];
  /** Called after each encryption refresh (actions wait on it). */
  private encryptionListeners: Array<(v: unknown) => void> = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private defragEventsChanged = true;

  constructor(readonly o: HubOptions) {
    if (o.etcd) {
      this.sampler = new Sampler(o.etcd.conn, homeMembers(o.etcd.cluster), o.sampleIntervalMs);
      this.sampler.onTick((t, m) => this.onTick(t, m));
    }
    this.values.set('meta', {
      user: o.user,
      etcd: o.etcd ? { home: o.etcd.home, members: o.etcd.cluster.hosts.map((h) => h.name) } : undefined,
      historyMs: 60 * 60_000,
      sampleIntervalMs: o.sampleIntervalMs,
    });
    this.values.set('actions', []);
  }

  get ctx(): PageContext {
    return { kube: this.o.kube, etcd: this.o.etcd, etcdClient: () => this.etcdClientOnce(), latest: this.sampler?.latest };
  }

  private etcdClientOnce(): Etcd3 | undefined {
    if (!this.o.etcd) return undefined;
    this.etcd ??= etcdClient(this.o.etcd.conn);
    return this.etcd;
  }

  async start(): Promise<void> {
    this.sampler?.start();
    for (const w of WATCHED) this.watch(w);
    this.timers.push(setInterval(() => this.refresh('backups'), BACKUPS_EVERY_MS));
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.write(': keep-alive\n\n');
    }, 25_000);
    // The first views, so a page opened now is filled at once.
    await Promise.all([this.compute('overview'), this.compute('encryption'), this.compute('backups'), this.compute('defrag')]);
  }

  close(): void {
    this.closed = true;
    this.sampler?.stop();
    for (const w of this.watches) w.close();
    for (const t of this.timers) clearInterval(t);
    for (const t of this.retries) clearTimeout(t);
    clearInterval(this.heartbeat);
    clearTimeout(this.flushTimer);
    this.etcd?.close();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  /** Everything at once: the first message of a stream, and GET /api/state. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries(this.values);
  }

  get(section: Section): unknown {
    return this.values.get(section);
  }

  subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    for (const [section, value] of this.values) res.write(frame(section, value));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  private send(section: string, value: unknown): void {
    const f = frame(section, value);
    for (const c of this.clients) c.write(f);
  }

  set(section: Section, value: unknown): void {
    this.values.set(section, value);
    this.send(section, value);
  }

  /** Recompute a view soon (changes that come together make one refresh). */
  refresh(section: Section): void {
    if (this.closed) return;
    this.pending.add(section);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      const sections = [...this.pending];
      this.pending.clear();
      for (const s of sections) void this.compute(s);
    }, DEBOUNCE_MS);
  }

  onEncryption(fn: (v: unknown) => void): () => void {
    this.encryptionListeners.push(fn);
    return () => {
      this.encryptionListeners = this.encryptionListeners.filter((x) => x !== fn);
    };
  }

  private computing = new Map<Section, Promise<void>>();

  /** One computation per view at a time; a refresh asked meanwhile runs after it. */
  async compute(section: Section): Promise<void> {
    const running = this.computing.get(section);
    if (running) {
      await running;
      return this.compute(section);
    }
    const p = this.computeNow(section).finally(() => this.computing.delete(section));
    this.computing.set(section, p);
    return p;
  }

  private async computeNow(section: Section): Promise<void> {
    try {
      if (section === 'overview') this.set('overview', await this.overview());
      else if (section === 'encryption') {
        const v = await encryptionView(this.ctx);
        this.set('encryption', v);
        for (const l of this.encryptionListeners) l(v);
      } else if (section === 'backups') this.set('backups', await backupsView(this.ctx));
      else if (section === 'defrag') {
        const events = this.defragEventsChanged;
        this.defragEventsChanged = false;
        try {
          this.set('defrag', await defragView(this.ctx, this.values.get('defrag') as DefragView | undefined, events));
        } catch (err) {
          this.defragEventsChanged = true;
          throw err;
        }
      }
    } catch (err) {
      // Keep the last good view; say it is stale and why (an API server restarting, say).
      const last = this.values.get(section) as Record<string, unknown> | undefined;
      this.set(section, { ...(last ?? {}), stale: errorMessage(err) });
    }
  }

  private async overview(): Promise<OverviewView> {
    const latest = this.sampler?.latest;
    const operators = [];
    for (const ref of OPERATOR_OBJECTS) {
      const obj = await this.o.kube.getOrUndefined(ref, 'cluster');
      if (obj) operators.push(operatorLine(obj));
    }
    return { t: latest?.t ?? Date.now(), members: memberRows(latest), alarms: latest?.alarms ?? [], operators };
  }

  private onTick(tick: Tick, markers: Marker[]): void {
    const last = this.values.get('overview') as OverviewView | undefined;
    if (last) this.set('overview', { ...last, t: tick.t, members: memberRows(tick), alarms: tick.alarms });
    if (!this.values.has('history')) this.values.set('history', historyView(this.sampler!.ticks, this.sampler!.markers));
    // Pages that have the history get the new row only; a new page gets everything on connect.
    const row = historyView(this.sampler!.ticks.slice(-2), []);
    const point = { t: row.t[row.t.length - 1], dbSize: lastOf(row.dbSize), inUse: lastOf(row.inUse), writes: row.writes[row.writes.length - 1] ?? null, markers };
    this.values.set('history', historyView(this.sampler!.ticks, this.sampler!.markers));
    this.send('point', point);
    this.refresh('defrag');
  }

  private watch(w: Watched): void {
    if (this.closed) return;
    let rv: string | undefined;
    const open = () => {
      if (this.closed) return;
      const h = this.o.kube.watch(
        w.ref,
        { labelSelector: w.labelSelector, resourceVersion: rv, timeoutSeconds: 600 },
        (e) => {
          if (e.type === 'ERROR') {
            rv = undefined; // expired: start over from the current state
            return;
          }
          if (e.object?.metadata?.resourceVersion) rv = e.object.metadata.resourceVersion;
          if (e.type === 'BOOKMARK') return;
          if (w.sections.includes('defrag')) this.defragEventsChanged = true;
          for (const s of w.sections) this.refresh(s);
        },
        () => {
          const i = this.watches.indexOf(h);
          if (i >= 0) this.watches.splice(i, 1);
          if (!this.closed) {
            const t = setTimeout(() => {
              this.retries.delete(t);
              open();
            }, WATCH_RETRY_MS);
            this.retries.add(t);
          }
        },
      );
      this.watches.push(h);
    };
    open();
  }

  /** Actions: kept (the last 20) and pushed as they progress. */
  publishActions(): void {
    while (this.actions.length > 20) this.actions.shift();
    this.set('actions', this.actions.map((a) => ({ ...a, lines: a.lines.slice(-200) })));
  }
}

function lastOf(cols: Record<string, Array<number | null>>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v[v.length - 1] ?? null]));
}

function frame(event: string, value: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(value)}\n\n`;
}

