/**
 * What the console's server sends its pages besides the overview (views.ts): the Encryption,
 * Backups and Defrag pages and the actions. Types only, shared with the page's code (web/).
 */
import type { EncryptionReport } from '../operator/encryption/report.js';

export interface ActionRecord {
  id: string;
  kind: string;
  title: string;
  state: 'running' | 'succeeded' | 'failed';
  started: number;
  finished?: number;
  lines: string[];
  /** What the page shows after: a defrag plan, a drill report, a restore preview. */
  result?: unknown;
  error?: string;
  /** The CLI command that does the same. */
  cli: string;
}

export interface EncryptionView {
  report?: EncryptionReport;
  progress?: { pct: number; stage: string };
  /** Objects stored per resource ("secrets", "routes.route.openshift.io"), counted in etcd. */
  totals: Record<string, number>;
  settled: boolean;
  stale?: string;
}

export interface BackupRow {
  /** What an action names this backup by: its location and stamp (the server finds the path). */
  location: string;
  stamp: string;
  time: number;
  host?: string;
  revision?: number;
  bytes: number;
  encrypted: boolean;
  possiblyDirty: boolean;
  complete: boolean;
  problem?: string;
  inUse: boolean;
  drill?: { result: 'Passed' | 'Failed'; at: string; reason?: string; durationMs: number };
  scheduled?: string;
  run?: string;
  /** The snapshot's and the resources archive's file names in the folder. */
  files: string[];
  /** The folder's newest complete backup: the one `etcd-ops restore <folder>` takes. */
  newest: boolean;
}

export interface BackupLocation {
  id: string;
  kind: 'host' | 'volume' | 'remote';
  name: string;
  where: string;
  rows: BackupRow[];
  error?: string;
}

export interface ScheduleLine {
  name: string;
  schedule?: string;
  timeZone?: string;
  retention: string;
  pvcName?: string;
  drill: boolean;
  lastScheduleTime?: string;
  lastSuccessfulBackup?: { name?: string; host?: string; stamp?: string; time?: string; bytes?: number };
  lastVerifiedBackup?: { stamp?: string; time?: string };
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

export interface RunLine {
  name: string;
  schedule?: string;
  state: string;
  message?: string;
  host?: string;
  stamp?: string;
  created?: string;
}

export interface BackupsView {
  locations: BackupLocation[];
  schedules: ScheduleLine[];
  runs: RunLine[];
  /** The remote copies go to (REMOTE:PATH), when a Secret says; never its rclone.conf. */
  remote?: string;
  stale?: string;
}

export interface DefragMember {
  name: string;
  leader: boolean;
  healthy: boolean;
  dbSize?: number;
  dbSizeInUse?: number;
  reclaimable?: number;
  fragmentation?: number;
  quotaUsage?: number;
  /** The default rule (the operator's controller's) would defragment it now. */
  matchesDefault: boolean;
}

export interface DefragView {
  rule: string;
  ruleExpr: string;
  members: DefragMember[];
  alarms: Array<{ member: string; alarm: string }>;
  history: Array<{ time: string; reason: string; message: string; type: string; source: string }>;
  controller: Array<{ type: string; status: string; reason?: string; message?: string }>;
  stale?: string;
}

/** `restore --preview`'s report, as the page gets it (revisions as text; names capped per list). */
export interface RestorePreview {
  location: string;
  stamp: string;
  dir: string;
  backup: { source: string; revision: string };
  current: { source: string; revision: string };
  resources: Array<{ resource: string; revert: number; lose: number; resurrect: number; names: { revert: string[]; lose: string[]; resurrect: string[] } }>;
  risks: Array<{ kind: 'storage' | 'credentials' | 'local-volume'; resource: string; object: string; change: string; detail: string }>;
  unreadable: number;
}
