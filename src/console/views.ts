/**
 * What the console's pages show, as JSON, built from the domain's reports. Pure: the hub
 * (hub.ts) feeds them the latest samples and API objects. Nothing here carries key material:
 * keys appear by name, mode and times only, and Secrets are never passed in.
 */
import { findCondition } from '../kube/conditions.js';
import type { KubeObject } from '../kube/client.js';
import type { Marker, Tick } from './sampler.js';

export interface MemberRow {
  name: string;
  endpoint: string;
  id?: string;
  leader: boolean;
  healthy: boolean;
  error?: string;
  version?: string;
  dbSize?: number;
  dbSizeInUse?: number;
  /** Share of the file that is free pages, 0..1. */
  fragmentation?: number;
  reclaimable?: number;
  quota?: number;
  /** dbSize / quota, 0..1. */
  quotaUsage?: number;
  raftTerm?: number;
  raftIndex?: number;
  appliedIndex?: number;
  revision?: number;
  alarms: string[];
}

export interface OperatorLine {
  kind: string;
  name: string;
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

export interface OverviewView {
  t: number;
  members: MemberRow[];
  alarms: Array<{ member: string; alarm: string }>;
  operators: OperatorLine[];
}

export function memberRows(tick: Tick | undefined): MemberRow[] {
  if (!tick) return [];
  return tick.members.map((m) => {
    const frag = m.dbSize && m.dbSizeInUse !== undefined ? (m.dbSize - m.dbSizeInUse) / m.dbSize : undefined;
    return {
      name: m.name,
      endpoint: m.endpoint,
      id: m.id,
      leader: m.isLeader,
      healthy: m.healthy,
      error: m.error,
      version: m.version,
      dbSize: m.dbSize,
      dbSizeInUse: m.dbSizeInUse,
      fragmentation: frag,
      reclaimable: m.dbSize !== undefined && m.dbSizeInUse !== undefined ? m.dbSize - m.dbSizeInUse : undefined,
      quota: m.quota,
      quotaUsage: m.dbSize !== undefined && m.quota ? m.dbSize / m.quota : undefined,
      raftTerm: m.raftTerm,
      raftIndex: m.raftIndex,
      appliedIndex: m.appliedIndex,
      revision: m.revision,
      alarms: tick.alarms.filter((a) => a.member === m.name || a.member === m.id).map((a) => a.alarm),
    };
  });
}

const SHOWN = ['Available', 'Progressing', 'Degraded'];

/** One line per operator object: Available, Progressing, Degraded as its status says. */
export function operatorLine(obj: KubeObject): OperatorLine {
  return {
    kind: obj.kind,
    name: obj.metadata.name,
    conditions: SHOWN.map((type) => {
      // library-go operators report per-controller conditions (FooAvailable, FooDegraded): the
      // object's own is the plain one when there is one, else their summary.
      const own = findCondition(obj, type);
      if (own) return { type, status: own.status, reason: own.reason, message: own.message };
      const parts = (obj.status?.conditions ?? []).filter((c: { type: string }) => c.type.endsWith(type) && c.type !== type);
      if (!parts.length) return { type, status: 'Unknown' };
      const bad = type === 'Available' ? parts.filter((c: { status: string }) => c.status !== 'True') : parts.filter((c: { status: string }) => c.status === 'True');
      const status = type === 'Available' ? (bad.length ? 'False' : 'True') : bad.length ? 'True' : 'False';
      const message = bad.map((c: { type: string; message?: string }) => `${c.type}: ${c.message ?? ''}`).join('; ');
      return { type, status, reason: bad[0]?.reason ?? 'AsExpected', message };
    }),
  };
}

export interface HistoryView {
  members: string[];
  /** Seconds since the epoch, as uPlot takes them. */
  t: number[];
  dbSize: Record<string, Array<number | null>>;
  inUse: Record<string, Array<number | null>>;
  /** Write transactions per second (the leader's revision over time), null for the first. */
  writes: Array<number | null>;
  markers: Marker[];
}

/** The charts' columns from the ticks: one row per tick, null where a member did not answer. */
export function historyView(ticks: Tick[], markers: Marker[]): HistoryView {
  const members = [...new Set(ticks.flatMap((t) => t.members.map((m) => m.name)))];
  const h: HistoryView = { members, t: [], dbSize: {}, inUse: {}, writes: [], markers: [...markers] };
  for (const n of members) {
    h.dbSize[n] = [];
    h.inUse[n] = [];
  }
  let prev: { t: number; rev: number } | undefined;
  for (const tick of ticks) {
    h.t.push(tick.t / 1000);
    for (const n of members) {
      const m = tick.members.find((x) => x.name === n);
      h.dbSize[n]!.push(m?.dbSize ?? null);
      h.inUse[n]!.push(m?.dbSizeInUse ?? null);
    }
    const rev = Math.max(...tick.members.map((m) => m.revision ?? 0));
    h.writes.push(prev && rev >= prev.rev && tick.t > prev.t ? ((rev - prev.rev) * 1000) / (tick.t - prev.t) : null);
    if (rev > 0) prev = { t: tick.t, rev };
  }
  return h;
}
