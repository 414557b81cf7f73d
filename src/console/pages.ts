/**
 * The Encryption, Backups and Defrag views, each from the domain functions the CLI prints:
 * `encryptionReport` (encryption status), the backup catalog (backup list), the defrag rule and
 * the operator's events. Secrets are read here only for where a remote is (never sent) and by
 * encryptionReport itself, which reports key names, modes and times only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { listFolder, listHostFolders, type CatalogEntry } from '../backup/catalog.js';
import { latestSnapshotName } from '../backup/names.js';
import { claimTarget } from '../backup/placement.js';
import { listRemote } from '../backup/remote.js';
import { onHost } from '../backup/where.js';
import { spaceVars, type MemberSpace } from '../defrag/plan.js';
import { compileRule } from '../defrag/rule.js';
import { DEFAULT_RULE_TEXT, thresholdRule } from '../defrag/thresholds.js';
import type { Connection } from '../etcd/connection.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { CORE, OPERATOR, type KubeClient, type KubeObject } from '../kube/client.js';
import { OPERATOR_NAMESPACE } from '../operator/context.js';
import { BACKUPS, ETCDBACKUPS, ETCD_NAMESPACE, REMOTE_SECRET } from '../operator/backup.js';
import { encryptionProgress, modeSettled } from '../operator/encryption/admin.js';
import { COMPONENTS, groupResource } from '../operator/encryption/components.js';
import { encryptionReport } from '../operator/encryption/report.js';
import { resourcePrefix } from '../storage/keys.js';
import { errorMessage } from '../util/errors.js';
import type { Tick } from './sampler.js';
import type { BackupLocation, BackupRow, BackupsView, DefragView, EncryptionView, RunLine, ScheduleLine } from './wire.js';

export interface PageContext {
  kube: KubeClient;
  etcd?: { conn: Connection; home: string; cluster: ClusterFile };
  etcdClient: () => Etcd3 | undefined;
  latest?: Tick;
}

// ---- Encryption ---------------------------------------------------------------------------------

export async function encryptionView(ctx: PageContext): Promise<EncryptionView> {
  const report = await encryptionReport(ctx.kube);
  const totals: Record<string, number> = {};
  const client = ctx.etcdClient();
  if (client) {
    await Promise.all(
      COMPONENTS.flatMap((c) => c.resources).map(async (r) => {
        try {
          totals[groupResource(r)] = await client.getAll().prefix(resourcePrefix(r.group, r.resource)).count();
        } catch {
          // A member restarting: the bar shows counts without a total for a moment.
        }
      }),
    );
  }
  return { report, progress: encryptionProgress(report), totals, settled: modeSettled(report) };
}

// ---- Backups ------------------------------------------------------------------------------------

function row(location: string, e: CatalogEntry, newest: boolean): BackupRow {
  const d = e.record?.drill;
  return {
    files: [e.snapshot, e.bundle].filter((x): x is string => Boolean(x)),
    newest,
    location,
    stamp: e.stamp,
    time: e.time,
    host: e.record?.host,
    revision: e.record?.revision,
    bytes: e.bytes,
    encrypted: e.encrypted,
    possiblyDirty: e.possiblyDirty,
    complete: e.complete,
    ...(e.problem ? { problem: e.problem } : {}),
    inUse: e.inUse,
    ...(d ? { drill: { result: d.result, at: d.at, reason: d.reason, durationMs: d.durationMs } } : {}),
    ...(e.record?.scheduled ? { scheduled: e.record.scheduled.backup } : {}),
    ...(e.record?.run ? { run: e.record.run } : {}),
  };
}

/** A folder's rows; the one whose snapshot `etcd-ops restore <folder>` would take is marked. */
function rowsOf(location: string, entries: CatalogEntry[]): BackupRow[] {
  const taken = latestSnapshotName(entries.map((e) => e.snapshot).filter((x): x is string => Boolean(x)));
  return entries.map((e) => row(location, e, e.snapshot !== undefined && e.snapshot === taken));
}

/** Where backups are, as folders the console can read: each host's, and each claim's volume. */
export async function backupFolders(ctx: PageContext, schedules: KubeObject[]): Promise<Array<{ id: string; kind: 'host' | 'volume'; name: string; dir: string; error?: string }>> {
  const out: Array<{ id: string; kind: 'host' | 'volume'; name: string; dir: string; error?: string }> = [];
  const e = ctx.etcd;
  if (!e) return out;
  for (const f of listHostFolders(e.home, e.cluster)) out.push({ id: `host:${f.host}`, kind: 'host', name: f.host, dir: f.dir });
  const claims = [...new Set(schedules.map((b) => b.spec?.etcd?.pvcName).filter(Boolean) as string[])];
  if (claims.length) {
    const pvs = (await ctx.kube.list(CORE('persistentvolumes'))).items;
    for (const claim of claims) {
      const pvc = await ctx.kube.getOrUndefined(CORE('persistentvolumeclaims', ETCD_NAMESPACE), claim);
      const t = claimTarget(claim, pvc, pvs);
      if ('error' in t) {
        out.push({ id: `volume:${claim}`, kind: 'volume', name: claim, dir: '', error: t.error });
        continue;
      }
      for (const h of e.cluster.hosts.filter((x) => !t.hosts || t.hosts.includes(x.name))) {
        out.push({ id: `volume:${claim}:${h.name}`, kind: 'volume', name: `${claim} (${t.volume}) on ${h.name}`, dir: onHost(e.home, h.name, t.path) });
      }
    }
  }
  return out;
}

/** A remote listing costs an rclone run: at most once a minute unless asked. */
let remoteCache: { at: number; key: string; location: BackupLocation } | undefined;
const REMOTE_EVERY_MS = 60_000;

async function remoteLocation(ctx: PageContext, force: boolean): Promise<{ remote?: string; location?: BackupLocation }> {
  const secret = await ctx.kube.getOrUndefined(CORE('secrets', ETCD_NAMESPACE), REMOTE_SECRET);
  const text = (k: string) => (typeof secret?.data?.[k] === 'string' ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined);
  const remote = text('remote')?.trim();
  const conf = text('rclone.conf');
  if (!remote || conf === undefined) return {};
  const key = `${remote}\n${secret!.metadata.resourceVersion}`;
  if (!force && remoteCache && remoteCache.key === key && Date.now() - remoteCache.at < REMOTE_EVERY_MS) return { remote, location: remoteCache.location };
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-console-rclone-'));
  let location: BackupLocation;
  try {
    writeFileSync(join(tmp, 'rclone.conf'), conf, { mode: 0o600 });
    const entries = await listRemote(remote, { config: join(tmp, 'rclone.conf') });
    location = { id: 'remote', kind: 'remote', name: remote, where: remote, rows: rowsOf('remote', entries) };
  } catch (err) {
    location = { id: 'remote', kind: 'remote', name: remote, where: remote, rows: [], error: errorMessage(err) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  remoteCache = { at: Date.now(), key, location };
  return { remote, location };
}

function retentionText(b: KubeObject): string {
  const rp = b.spec?.etcd?.retentionPolicy ?? {};
  return rp.retentionType === 'RetentionSize'
    ? `at most ${rp.retentionSize?.maxSizeOfBackupsGb ?? 10} GB of backups`
    : `the newest ${rp.retentionNumber?.maxNumberOfBackups ?? 15} backups`;
}

const conditionsOf = (o: KubeObject) =>
  ((o.status?.conditions ?? []) as Array<{ type: string; status: string; reason?: string; message?: string }>).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));

function runState(r: KubeObject): { state: string; message?: string } {
  const cs = conditionsOf(r);
  for (const t of ['BackupFailed', 'BackupSkipped', 'BackupCompleted', 'BackupPending']) {
    const c = cs.find((x) => x.type === t && x.status === 'True');
    if (c) return { state: t.replace(/^Backup/, ''), message: c.message };
  }
  return { state: 'Waiting' };
}

export async function backupsView(ctx: PageContext, o: { forceRemote?: boolean } = {}): Promise<BackupsView> {
  const [schedules, runs] = await Promise.all([ctx.kube.list(BACKUPS).then((l) => l.items), ctx.kube.list(ETCDBACKUPS).then((l) => l.items)]);
  const locations: BackupLocation[] = (await backupFolders(ctx, schedules)).map((f) => ({
    id: f.id,
    kind: f.kind,
    name: f.name,
    where: f.dir,
    rows: f.error ? [] : rowsOf(f.id, listFolder(f.dir)),
    ...(f.error ? { error: f.error } : {}),
  }));
  const { remote, location } = await remoteLocation(ctx, Boolean(o.forceRemote));
  if (location) locations.push(location);
  const scheduleLines: ScheduleLine[] = schedules.map((b) => ({
    name: b.metadata.name,
    schedule: b.spec?.etcd?.schedule || undefined,
    timeZone: b.spec?.etcd?.timeZone || undefined,
    retention: retentionText(b),
    pvcName: b.spec?.etcd?.pvcName || undefined,
    drill: b.spec?.etcd?.drill !== 'Disabled',
    lastScheduleTime: b.status?.lastScheduleTime,
    lastSuccessfulBackup: b.status?.lastSuccessfulBackup,
    lastVerifiedBackup: b.status?.lastVerifiedBackup,
    conditions: conditionsOf(b),
  }));
  const runLines: RunLine[] = runs
    .map((r) => ({
      name: r.metadata.name,
      schedule: r.metadata.labels?.['backup.etcd-ops.io/schedule'],
      ...runState(r),
      host: r.status?.backup?.host,
      stamp: r.status?.backup?.stamp,
      created: r.metadata.creationTimestamp,
    }))
    .sort((a, b) => String(b.created).localeCompare(String(a.created)))
    .slice(0, 20);
  return { locations, schedules: scheduleLines, runs: runLines, ...(remote ? { remote } : {}) };
}

// ---- Defrag -------------------------------------------------------------------------------------

const DEFRAG_REASON = /^(DefragController|ConsoleDefrag|ConsoleNospace|ConsoleCompact)/;

/** `events`: the operator's events and etcds/cluster read again (they changed); else the last ones. */
export async function defragView(ctx: PageContext, last: DefragView | undefined, events: boolean): Promise<DefragView> {
  const ruleExpr = thresholdRule();
  const rule = compileRule(ruleExpr);
  const tick = ctx.latest;
  const members = (tick?.members ?? []).map((m) => {
    const space: MemberSpace | undefined =
      m.dbSize !== undefined && m.dbSizeInUse !== undefined
        ? { endpoint: m.endpoint, name: m.name, memberId: 0n, isLeader: m.isLeader, isLearner: Boolean(m.isLearner), healthy: m.healthy, dbSize: m.dbSize, dbSizeInUse: m.dbSizeInUse, dbQuota: m.quota ?? 0 }
        : undefined;
    return {
      name: m.name,
      leader: m.isLeader,
      healthy: m.healthy,
      dbSize: m.dbSize,
      dbSizeInUse: m.dbSizeInUse,
      reclaimable: space ? space.dbSize - space.dbSizeInUse : undefined,
      fragmentation: space && space.dbSize ? (space.dbSize - space.dbSizeInUse) / space.dbSize : undefined,
      quotaUsage: space && space.dbQuota ? space.dbSize / space.dbQuota : undefined,
      matchesDefault: space ? rule(spaceVars(space)) : false,
    };
  });
  if (last && !events && !last.stale) return { ...last, members, alarms: tick?.alarms ?? [] };
  const [items, etcd] = await Promise.all([ctx.kube.list(CORE('events', OPERATOR_NAMESPACE)).then((l) => l.items), ctx.kube.getOrUndefined(OPERATOR('etcds'), 'cluster')]);
  const history = items
    .filter((e) => DEFRAG_REASON.test(e.reason ?? ''))
    .map((e) => ({ time: e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp, reason: e.reason, message: e.message ?? '', type: e.type ?? 'Normal', source: e.source?.component ?? '' }))
    .sort((a, b) => String(b.time).localeCompare(String(a.time)))
    .slice(0, 50);
  const controller = etcd ? conditionsOf(etcd).filter((c) => c.type.startsWith('DefragController')) : [];
  return { rule: DEFAULT_RULE_TEXT, ruleExpr, members, alarms: tick?.alarms ?? [], history, controller };
}
