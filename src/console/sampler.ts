/**
 * The console's view of the members: every few seconds each member's status, a linearizable
 * read (health, as `etcdctl endpoint health`), a few of its Prometheus metrics and the alarms,
 * kept for an hour so the overview can chart them. One long-lived client and one keep-alive
 * metrics connection per member: an idle console costs a few small requests per tick.
 */
import { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { Etcd3 } from 'etcd3';
import { describeEtcdError, etcdClient, type Connection } from '../etcd/connection.js';
import { big } from '../etcd/ids.js';
import { fetchText, metricValues } from '../etcd/metrics.js';
import { toMemberStatus } from '../etcd/status.js';
import { DEFAULT_QUOTA_BYTES } from '../defrag/observe.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { errorMessage } from '../util/errors.js';

export interface MemberTarget {
  name: string;
  endpoint: string;
  metricsURL: string;
}

export function homeMembers(cluster: ClusterFile): MemberTarget[] {
  return cluster.hosts.map((h) => ({ name: h.name, endpoint: h.clientURL, metricsURL: h.metricsURL }));
}

const METRICS = [
  'etcd_server_quota_backend_bytes',
  'etcd_server_leader_changes_seen_total',
  'etcd_disk_backend_defrag_duration_seconds_count',
  'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count',
  'etcd_debugging_mvcc_compact_revision',
] as const;

/** One member at one time. Sizes in bytes; counters as etcd reports them since it started. */
export interface MemberSample {
  name: string;
  endpoint: string;
  /** Hex, as etcdctl prints member IDs. */
  id?: string;
  healthy: boolean;
  error?: string;
  isLeader: boolean;
  leaderId?: string;
  version?: string;
  dbSize?: number;
  dbSizeInUse?: number;
  quota?: number;
  raftTerm?: number;
  raftIndex?: number;
  appliedIndex?: number;
  revision?: number;
  isLearner?: boolean;
  leaderChanges?: number;
  defrags?: number;
  compactions?: number;
  compactRevision?: number;
}

export interface Tick {
  t: number;
  members: MemberSample[];
  alarms: Array<{ member: string; alarm: string }>;
}

export interface Marker {
  t: number;
  kind: 'defrag' | 'compaction' | 'leader';
  member?: string;
  text: string;
}

export const HISTORY_MS = 60 * 60_000;

/** What changed between two ticks that the charts mark: defrags, compactions, a new leader. Pure. */
export function markersBetween(prev: Tick | undefined, cur: Tick): Marker[] {
  if (!prev) return [];
  const out: Marker[] = [];
  for (const m of cur.members) {
    const p = prev.members.find((x) => x.name === m.name);
    if (!p) continue;
    if (m.defrags !== undefined && p.defrags !== undefined && m.defrags > p.defrags) out.push({ t: cur.t, kind: 'defrag', member: m.name, text: `defrag of ${m.name}` });
    if (m.compactions !== undefined && p.compactions !== undefined && m.compactions > p.compactions && m.isLeader) {
      out.push({ t: cur.t, kind: 'compaction', member: m.name, text: `compaction to revision ${m.compactRevision ?? '?'}` });
    }
  }
  const leader = (t: Tick) => t.members.find((m) => m.isLeader)?.name;
  const [a, b] = [leader(prev), leader(cur)];
  if (b && a !== b) out.push({ t: cur.t, kind: 'leader', member: b, text: `${b} became leader` });
  return out;
}

export class Sampler {
  readonly ticks: Tick[] = [];
  readonly markers: Marker[] = [];
  private readonly clients = new Map<string, Etcd3>();
  private readonly agent: HttpAgent;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private listeners: Array<(t: Tick, markers: Marker[]) => void> = [];

  constructor(
    private readonly conn: Connection,
    private readonly members: MemberTarget[],
    private readonly intervalMs: number,
  ) {
    const tls = conn.tls ?? {};
    this.agent = members.some((m) => m.metricsURL.startsWith('https:'))
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: tls.ca, cert: tls.cert, key: tls.key })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  }

  onTick(fn: (t: Tick, markers: Marker[]) => void): void {
    this.listeners.push(fn);
  }

  get latest(): Tick | undefined {
    return this.ticks[this.ticks.length - 1];
  }

  start(): void {
    const loop = async () => {
      if (this.running) return;
      this.running = true;
      try {
        await this.sample();
      } finally {
        this.running = false;
        if (this.timer !== undefined) this.timer = setTimeout(loop, this.intervalMs);
      }
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Samples now (after an action), besides the regular ticks. */
  async sample(): Promise<Tick> {
    const t = Date.now();
    const members = await Promise.all(this.members.map((m) => this.sampleMember(m)));
    const alarms = await this.alarms(members);
    const tick: Tick = { t, members, alarms };
    const markers = markersBetween(this.latest, tick);
    this.ticks.push(tick);
    this.markers.push(...markers);
    while (this.ticks.length && this.ticks[0]!.t < t - HISTORY_MS) this.ticks.shift();
    while (this.markers.length && this.markers[0]!.t < t - HISTORY_MS) this.markers.shift();
    for (const l of this.listeners) l(tick, markers);
    return tick;
  }

  /** A mark the metrics cannot show: a compaction the console asked for, say. */
  mark(m: Marker): void {
    this.markers.push(m);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    this.agent.destroy();
  }

  private client(endpoint: string): Etcd3 {
    let c = this.clients.get(endpoint);
    if (!c) {
      c = etcdClient(this.conn, [endpoint]);
      this.clients.set(endpoint, c);
    }
    return c;
  }

  private async sampleMember(m: MemberTarget): Promise<MemberSample> {
    const out: MemberSample = { name: m.name, endpoint: m.endpoint, healthy: false, isLeader: false };
    const c = this.client(m.endpoint);
    const [status, read, metrics] = await Promise.allSettled([
      c.maintenance.status(),
      c.get('health').string(),
      fetchText(`${m.metricsURL}/metrics`, this.conn, this.agent),
    ]);
    if (status.status === 'fulfilled') {
      const s = toMemberStatus(status.value);
      Object.assign(out, {
        id: s.header.member_id.toString(16),
        leaderId: s.leader.toString(16),
        isLeader: s.header.member_id === s.leader,
        version: s.version,
        dbSize: Number(s.dbSize),
        dbSizeInUse: Number(s.dbSizeInUse),
        raftTerm: Number(s.raftTerm),
        raftIndex: Number(s.raftIndex),
        appliedIndex: Number(s.raftAppliedIndex),
        revision: Number(s.header.revision),
        isLearner: s.isLearner,
      });
    } else out.error = describeEtcdError(status.reason, this.conn);
    // A permission-denied answer went through raft too, as etcdctl endpoint health counts it.
    const readOk = read.status === 'fulfilled' || /permission denied/i.test(errorMessage(read.reason));
    if (!readOk && !out.error) out.error = describeEtcdError(read.reason, this.conn);
    out.healthy = status.status === 'fulfilled' && readOk;
    if (metrics.status === 'fulfilled') {
      const v = metricValues(metrics.value, METRICS);
      out.quota = v.etcd_server_quota_backend_bytes;
      out.leaderChanges = v.etcd_server_leader_changes_seen_total;
      out.defrags = v.etcd_disk_backend_defrag_duration_seconds_count;
      out.compactions = v.etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count;
      out.compactRevision = v.etcd_debugging_mvcc_compact_revision;
    }
    out.quota ??= out.dbSize !== undefined ? DEFAULT_QUOTA_BYTES : undefined;
    return out;
  }

  private async alarms(members: MemberSample[]): Promise<Tick['alarms']> {
    const asker = members.find((m) => m.healthy) ?? members.find((m) => m.id);
    if (!asker) return [];
    try {
      const r = await this.client(asker.endpoint).maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
      return r.alarms.map((a) => {
        const id = big(a.memberID).toString(16);
        return { member: members.find((m) => m.id === id)?.name ?? id, alarm: String(a.alarm).toUpperCase() };
      });
    } catch {
      return [];
    }
  }
}
