/**
 * The backup controller, as OpenShift's tech-preview one with restore drills added. One sync:
 *   1. each Backup (config.openshift.io/v1alpha1) with a schedule: when a scheduled time has
 *      passed, make its run, an EtcdBackup named after that minute (a missed time runs once,
 *      and the name makes a second run for the same time impossible, whichever leader tries);
 *   2. the oldest unfinished EtcdBackup runs, one at a time (OpenShift's Forbid): on a healthy
 *      host, a follower first; refused while an operator is Progressing (BackupSkipped); retention
 *      applied first for scheduled runs; the drill on the plaintext before it is sealed; the
 *      copy pushed off-host when a Secret holds an rclone config;
 *   3. metrics from the API objects, and old finished runs pruned.
 * State lives in the objects and in each backup's record on disk: a new leader finds a run the
 * old one finished by the run's name in the records, and runs again one it did not finish.
 */
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGood, listFolder, type CatalogEntry } from '../backup/catalog.js';
import { parseRecipients, type AgeTarget } from '../backup/age.js';
import { drillBackup, drillSummary } from '../backup/drill.js';
import { makeBackup, type MadeBackup } from '../backup/make.js';
import { refusal } from '../backup/operators.js';
import { chooseHost, claimTarget, type Candidate } from '../backup/placement.js';
import { readOperatorStates } from '../backup/read-operators.js';
import type { DrillSummary } from '../backup/record.js';
import { pushBackup } from '../backup/remote.js';
import { planRetention, GB, type RetentionPolicy } from '../backup/retention.js';
import { dueTime, intervalSeconds, runName } from '../backup/schedule.js';
import { hostBackupDir, onHost } from '../backup/where.js';
import { observeMembers } from '../defrag/observe.js';
import type { Connection } from '../etcd/endpoints.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { hostPaths } from '../home/layout.js';
import { CORE, isAlreadyExists, isNotFound, type KubeObject, type ResourceRef } from '../kube/client.js';
import { findCondition, setCondition, type Condition } from '../kube/conditions.js';
import { errorMessage } from '../util/errors.js';
import { recordEvent, updateStatus, type OperatorContext } from './context.js';
import type { BackupMetrics } from './backup-metrics.js';

export const BACKUPS: ResourceRef = { group: 'config.openshift.io', version: 'v1alpha1', resource: 'backups' };
export const ETCDBACKUPS: ResourceRef = { group: 'operator.openshift.io', version: 'v1alpha1', resource: 'etcdbackups' };
export const ETCD_NAMESPACE = 'openshift-etcd';
/** age recipients, one a line, under `recipients`. */
export const RECIPIENTS_SECRET = 'etcd-backup-encryption';
/** `rclone.conf` and `remote` (REMOTE:PATH). */
export const REMOTE_SECRET = 'etcd-backup-remote';
export const LABEL_BACKUP = 'backup.etcd-ops.io/schedule';
export const ANN_SCHEDULED = 'backup.etcd-ops.io/scheduled-time';
/** Finished runs kept per schedule beyond those whose backups are still on disk. */
const FINISHED_RUNS_KEPT = 3;
const ONE_OFF = 'etcdbackup';

export interface BackupEnv {
  home: string;
  cluster: ClusterFile;
  /** The operator's etcd connection (endpoints and TLS as the home has them). */
  conn: Connection;
  metrics?: BackupMetrics;
  /** This replica: `<node>/<pid>`. A pending run with another runner was interrupted. */
  runner: string;
}

const TERMINAL = ['BackupCompleted', 'BackupFailed', 'BackupSkipped'];

export function finished(run: KubeObject): boolean {
  return TERMINAL.some((t) => findCondition(run, t)?.status === 'True');
}

export async function syncBackups(ctx: OperatorContext, env: BackupEnv): Promise<void> {
  const schedules = (await ctx.kube.list(BACKUPS)).items;
  for (const b of schedules) await scheduleRuns(ctx, env, b);
  const runs = (await ctx.kube.list(ETCDBACKUPS)).items;
  const pending = runs.filter((r) => !finished(r)).sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name.localeCompare(b.metadata.name));
  if (pending[0]) await runBackup(ctx, env, pending[0], schedules);
  const after = pending[0] ? (await ctx.kube.list(ETCDBACKUPS)).items : runs;
  reportMetrics(env, schedules, after);
  await pruneRuns(ctx, schedules, after);
}

/** Makes the run for a passed scheduled time (once), then records the time on the Backup. */
async function scheduleRuns(ctx: OperatorContext, env: BackupEnv, b: KubeObject): Promise<void> {
  const e = b.spec?.etcd ?? {};
  if (!e.schedule) return;
  const spec = { schedule: e.schedule, timeZone: e.timeZone };
  const now = ctx.now();
  env.metrics?.interval.set({ backup: b.metadata.name }, intervalSeconds(spec, now));
  const last = b.status?.lastScheduleTime ? Date.parse(b.status.lastScheduleTime) : 0;
  const since = new Date(Math.max(last, Date.parse(b.metadata.creationTimestamp) || 0));
  const due = dueTime(spec, now, since);
  if (!due) return;
  const name = runName(b.metadata.name, due);
  try {
    await ctx.kube.create(ETCDBACKUPS, {
      apiVersion: 'operator.openshift.io/v1alpha1',
      kind: 'EtcdBackup',
      metadata: {
        name,
        labels: { [LABEL_BACKUP]: b.metadata.name },
        annotations: { [ANN_SCHEDULED]: due.toISOString() },
        ownerReferences: [{ apiVersion: 'config.openshift.io/v1alpha1', kind: 'Backup', name: b.metadata.name, uid: b.metadata.uid, controller: true }],
      },
      spec: e.pvcName ? { pvcName: e.pvcName } : {},
    });
    ctx.log(`backup: ${b.metadata.name}: scheduled run ${name} for ${due.toISOString()}`);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await updateStatus(ctx, BACKUPS, b.metadata.name, (status) => {
    if (status.lastScheduleTime && Date.parse(status.lastScheduleTime) >= due.getTime()) return false;
    status.lastScheduleTime = due.toISOString();
  });
}

async function setRunConditions(ctx: OperatorContext, name: string, conditions: Condition[], extra: Record<string, unknown> = {}): Promise<KubeObject> {
  return updateStatus(ctx, ETCDBACKUPS, name, (status) => {
    let changed = false;
    for (const c of conditions) changed = setCondition(status, c, ctx.now()) || changed;
    for (const [k, v] of Object.entries(extra)) {
      if (JSON.stringify(status[k]) !== JSON.stringify(v)) {
        status[k] = v;
        changed = true;
      }
    }
    return changed;
  });
}

const cond = (type: string, status: boolean, reason: string, message = ''): Condition => ({ type, status: status ? 'True' : 'False', reason, message });

async function finish(ctx: OperatorContext, env: BackupEnv, run: KubeObject, outcome: 'BackupFailed' | 'BackupSkipped', message: string): Promise<void> {
  ctx.log(`backup: ${run.metadata.name}: ${outcome}: ${message}`);
  env.metrics?.failures.inc({ reason: outcome === 'BackupSkipped' ? 'skipped' : 'failed' });
  await setRunConditions(ctx, run.metadata.name, [cond('BackupPending', false, outcome, message), cond(outcome, true, outcome, message)]);
  await recordEvent(ctx, { kind: 'EtcdBackup', name: run.metadata.name, apiVersion: 'operator.openshift.io/v1alpha1' }, outcome, message, 'Warning');
}

function secretText(s: KubeObject | undefined, key: string): string | undefined {
  const v = s?.data?.[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** Every folder a run of this claim may have written to (a hostPath volume is on any host). */
function candidateDirs(env: BackupEnv, path: string | undefined, hosts: string[] | undefined): string[] {
  return env.cluster.hosts.filter((h) => !hosts || hosts.includes(h.name)).map((h) => (path ? onHost(env.home, h.name, path) : hostBackupDir(env.home, h.name)));
}

function retentionPolicy(b: KubeObject): RetentionPolicy {
  const rp = b.spec?.etcd?.retentionPolicy ?? {};
  return rp.retentionType === 'RetentionSize'
    ? { type: 'RetentionSize', maxSizeOfBackupsGb: rp.retentionSize?.maxSizeOfBackupsGb ?? 10 }
    : { type: 'RetentionNumber', maxNumberOfBackups: rp.retentionNumber?.maxNumberOfBackups ?? 15 };
}

/**
 * The backups retention counts: every complete one in the schedule's folder, as OpenShift prunes
 * its claim's folder (a backup made there by hand counts too). Incomplete ones are not backups.
 */
function folderEntries(dir: string): CatalogEntry[] {
  return listFolder(dir).filter((e) => e.complete);
}

/** Removes what the policy leaves out, before the next backup; never the newest good one, nor one being read. */
function applyRetention(ctx: OperatorContext, dir: string, b: KubeObject, incomingBytes: number): string[] {
  const entries = folderEntries(dir);
  const plan = planRetention(
    entries.map((e) => ({ id: e.stamp, time: e.time, bytes: e.bytes, good: isGood(e), inUse: e.inUse })),
    retentionPolicy(b),
    incomingBytes,
  );
  for (const n of plan.notes) ctx.log(`backup: retention: ${n}`);
  const removed: string[] = [];
  for (const r of plan.remove) {
    const e = entries.find((x) => x.stamp === r.id)!;
    // The retention policy is the one place backups are deleted: that is what it was set for.
    for (const f of [e.snapshot, e.bundle, e.recordName]) if (f) rmSync(join(dir, f), { force: true });
    removed.push(e.stamp);
  }
  if (removed.length) ctx.log(`backup: retention for ${b.metadata.name} removed ${removed.join(', ')} from ${dir}`);
  return removed;
}

async function runBackup(ctx: OperatorContext, env: BackupEnv, run: KubeObject, schedules: KubeObject[]): Promise<void> {
  const name = run.metadata.name;
  const scheduleName: string | undefined = run.metadata.labels?.[LABEL_BACKUP];
  const schedule = scheduleName ? schedules.find((b) => b.metadata.name === scheduleName) : undefined;
  const pvcName: string | undefined = run.spec?.pvcName || undefined;

  // Where it may go.
  let path: string | undefined;
  let hosts: string[] | undefined;
  if (pvcName) {
    const [pvc, pvs] = await Promise.all([ctx.kube.getOrUndefined(CORE('persistentvolumeclaims', ETCD_NAMESPACE), pvcName), ctx.kube.list(CORE('persistentvolumes'))]);
    const t = claimTarget(pvcName, pvc, pvs.items);
    if ('error' in t) return finish(ctx, env, run, 'BackupFailed', t.error);
    path = t.path;
    hosts = t.hosts;
  }

  // A run another replica started and did not finish: done if its record is on disk, else again.
  const prevRunner: string | undefined = run.status?.backup?.runner;
  if (prevRunner && prevRunner !== env.runner) {
    for (const dir of candidateDirs(env, path, hosts)) {
      const e = listFolder(dir).find((x) => x.record?.run === name && x.complete);
      if (e) {
        ctx.log(`backup: ${name}: ${prevRunner} finished it before it stopped (${dir}/${e.recordName})`);
        await completed(ctx, env, run, schedule, { dir, entry: e, host: e.record?.host ?? '', durationMs: 0 });
        return;
      }
    }
    ctx.log(`backup: ${name}: ${prevRunner} stopped before finishing it; running it again`);
  }

  // Where it runs: a healthy member, a follower first.
  const targets = env.cluster.hosts.map((h) => ({ endpoint: h.clientURL, name: h.name, metricsURL: h.metricsURL }));
  const { members } = await observeMembers(env.conn, targets);
  const candidates: Candidate[] = members.map((m) => ({ host: m.name!, endpoint: m.endpoint, healthy: m.healthy, isLeader: m.isLeader, ...(m.error ? { error: m.error } : {}) }));
  const place = chooseHost(candidates, hosts);
  if ('error' in place) return finish(ctx, env, run, 'BackupFailed', place.error);
  const dir = path ? onHost(env.home, place.host, path) : hostBackupDir(env.home, place.host);
  const member = members.find((m) => m.name === place.host)!;

  await setRunConditions(ctx, name, [cond('BackupPending', true, 'BackupPending', `backing up ${place.host}${place.leader ? ' (the leader: no healthy follower)' : ''} into ${dir}`)], {
    backupJob: { namespace: ETCD_NAMESPACE, name },
    backup: { runner: env.runner, host: place.host, dir },
  });

  // cluster-backup.sh's own refusal, reported as a skip with its words.
  const conn: Connection = { ...env.conn, endpoints: [place.endpoint], commandTimeoutMs: Math.max(env.conn.commandTimeoutMs, 10_000) };
  let why: string | undefined;
  try {
    why = refusal(await readOperatorStates(conn, [place.endpoint]));
  } catch (err) {
    return finish(ctx, env, run, 'BackupFailed', `cannot read the operators' status from ${place.endpoint}: ${errorMessage(err)}`);
  }
  if (why) return finish(ctx, env, run, 'BackupSkipped', why);

  // Room for it: twice the database, as OpenShift asks.
  try {
    const fs = statfsSync(hostPaths(env.home, place.host).root);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < 2 * member.dbSize) return finish(ctx, env, run, 'BackupFailed', `${place.host} has ${free} bytes free, less than twice the database (${member.dbSize} bytes)`);
  } catch {
    // statfs is informative only.
  }

  const removed = schedule ? applyRetention(ctx, dir, schedule, member.dbSize) : [];
  const encryption = await ctx.kube.getOrUndefined(CORE('secrets', ETCD_NAMESPACE), RECIPIENTS_SECRET);
  let encrypt: AgeTarget | undefined;
  try {
    const lines = secretText(encryption, 'recipients');
    if (lines !== undefined) encrypt = { recipients: parseRecipients(lines.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'))) };
  } catch (err) {
    return finish(ctx, env, run, 'BackupFailed', `Secret ${ETCD_NAMESPACE}/${RECIPIENTS_SECRET}: ${errorMessage(err)}`);
  }
  const drillOn = schedule ? schedule.spec?.etcd?.drill !== 'Disabled' : run.metadata.annotations?.['backup.etcd-ops.io/drill'] !== 'Disabled';

  const t0 = Date.now();
  let made: MadeBackup;
  let drill: DrillSummary | undefined;
  try {
    made = await makeBackup({
      dir,
      force: false,
      host: place.host,
      resourcesRoot: join(hostPaths(env.home, place.host).root, 'etc/kubernetes'),
      endpoint: place.endpoint,
      conn,
      memberDownHint: 'the member stopped answering; the next run picks a healthy host',
      report: (e) => {
        if (e.kind === 'pod-skipped' || e.kind === 'config-unreadable') ctx.log(`backup: ${name}: ${e.kind === 'pod-skipped' ? e.why : `${e.file}: ${e.error}`}`);
      },
      encrypt,
      record: true,
      run: name,
      ...(schedule ? { scheduled: { backup: schedule.metadata.name, time: run.metadata.annotations?.[ANN_SCHEDULED] ?? '' } } : {}),
      ...(drillOn
        ? {
            prove: async (staged) => {
              const r = await drillBackup({ path: staged.snapshotPath, bundle: staged.resourcesPath, log: (l) => ctx.log(`backup: ${name}: drill: ${l}`) });
              drill = drillSummary(r);
              return drill;
            },
          }
        : {}),
    });
  } catch (err) {
    return finish(ctx, env, run, 'BackupFailed', errorMessage(err));
  }
  const entry = listFolder(dir).find((e) => e.stamp === made.stamp && e.record?.run === name);
  ctx.log(`backup: ${name}: saved ${made.stamp} on ${place.host} in ${dir}${removed.length ? ` (retention removed ${removed.length})` : ''}`);
  await completed(ctx, env, run, schedule, { dir, entry, host: place.host, durationMs: Date.now() - t0 - (drill?.durationMs ?? 0) });
}

interface Outcome {
  dir: string;
  entry?: CatalogEntry;
  host: string;
  durationMs: number;
}

async function completed(ctx: OperatorContext, env: BackupEnv, run: KubeObject, schedule: KubeObject | undefined, o: Outcome): Promise<void> {
  const name = run.metadata.name;
  const rec = o.entry?.record;
  const drill = rec?.drill;
  const label = schedule?.metadata.name ?? ONE_OFF;
  const summary = {
    runner: env.runner,
    host: o.host,
    dir: o.dir,
    stamp: o.entry?.stamp,
    files: rec?.files.map((f) => f.name) ?? [],
    bytes: o.entry?.bytes ?? 0,
    encrypted: rec?.encrypted ?? false,
    revision: rec?.revision,
    time: rec?.createdAt ?? ctx.now().toISOString(),
  };
  const conditions = [cond('BackupPending', false, 'BackupCompleted'), cond('BackupCompleted', true, 'BackupCompleted', `${summary.files.join(' and ')} on ${o.host} in ${o.dir}`)];
  if (drill) conditions.push(drillCondition(drill));
  if (o.durationMs) env.metrics?.duration.observe({ backup: label }, o.durationMs / 1000);
  if (drill?.result === 'Failed') env.metrics?.failures.inc({ reason: 'drill' });

  // Off-host copy, when a Secret says where.
  const remote = await ctx.kube.getOrUndefined(CORE('secrets', ETCD_NAMESPACE), REMOTE_SECRET);
  const conf = secretText(remote, 'rclone.conf');
  const target = secretText(remote, 'remote')?.trim();
  if (conf !== undefined && target && o.entry) {
    const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-rclone-'));
    try {
      writeFileSync(join(tmp, 'rclone.conf'), conf, { mode: 0o600 });
      const r = await pushBackup(o.dir, o.entry, target, { config: join(tmp, 'rclone.conf') });
      conditions.push(cond('BackupPushed', true, 'BackupPushed', `copied to ${target} and verified (${r.files.length} files)`));
    } catch (err) {
      env.metrics?.failures.inc({ reason: 'push' });
      conditions.push(cond('BackupPushed', false, 'PushFailed', errorMessage(err)));
      ctx.log(`backup: ${name}: push to ${target} failed: ${errorMessage(err)}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  await setRunConditions(ctx, name, conditions, { backup: summary, ...(drill ? { drill } : {}) });
  await recordEvent(ctx, { kind: 'EtcdBackup', name, apiVersion: 'operator.openshift.io/v1alpha1' }, 'BackupCompleted', `backup ${summary.stamp} of ${o.host} saved in ${o.dir}${drill ? `; drill ${drill.result}${drill.reason ? `: ${drill.reason}` : ''}` : ''}`, drill?.result === 'Failed' ? 'Warning' : 'Normal');
  if (schedule) {
    await updateStatus(ctx, BACKUPS, schedule.metadata.name, (status) => {
      status.lastSuccessfulBackup = { name, host: o.host, path: o.dir, stamp: summary.stamp, time: summary.time, bytes: summary.bytes };
      if (drill) {
        setCondition(status, drillCondition(drill), ctx.now());
        if (drill.result === 'Passed') status.lastVerifiedBackup = { name, stamp: summary.stamp, time: drill.at };
      }
    });
  }
}

function drillCondition(d: DrillSummary): Condition {
  return d.result === 'Passed'
    ? cond('BackupVerified', true, 'DrillPassed', `restored into a scratch member in ${(d.durationMs / 1000).toFixed(1)}s: ${d.proven.join('; ')}`)
    : cond('BackupVerified', false, 'DrillFailed', d.reason ?? 'the drill failed');
}

/** Gauges from the objects, so any leader reports the same. */
function reportMetrics(env: BackupEnv, schedules: KubeObject[], runs: KubeObject[]): void {
  const m = env.metrics;
  if (!m) return;
  for (const b of schedules) {
    const label = { backup: b.metadata.name };
    const s = b.status ?? {};
    if (s.lastSuccessfulBackup?.time) {
      m.lastSuccess.set(label, Date.parse(s.lastSuccessfulBackup.time) / 1000);
      m.size.set(label, s.lastSuccessfulBackup.bytes ?? 0);
    }
    if (s.lastVerifiedBackup?.time) m.lastVerified.set(label, Date.parse(s.lastVerifiedBackup.time) / 1000);
    const v = findCondition(b, 'BackupVerified');
    if (v) m.drillPassed.set(label, v.status === 'True' ? 1 : 0);
    const rp = retentionPolicy(b);
    if (rp.type === 'RetentionSize') m.retentionLimit.set(label, rp.maxSizeOfBackupsGb * GB);
    const dir = s.lastSuccessfulBackup?.path;
    if (dir) m.retained.set(label, folderEntries(dir).reduce((n, e) => n + e.bytes, 0));
  }
  const oneOff = runs.filter((r) => !r.metadata.labels?.[LABEL_BACKUP] && findCondition(r, 'BackupCompleted')?.status === 'True').sort((a, b) => String(a.status?.backup?.time).localeCompare(String(b.status?.backup?.time))).pop();
  if (oneOff?.status?.backup?.time) {
    m.lastSuccess.set({ backup: ONE_OFF }, Date.parse(oneOff.status.backup.time) / 1000);
    m.size.set({ backup: ONE_OFF }, oneOff.status.backup.bytes ?? 0);
    if (oneOff.status.drill?.result === 'Passed') m.lastVerified.set({ backup: ONE_OFF }, Date.parse(oneOff.status.drill.at) / 1000);
  }
}

/** Deletes finished scheduled runs whose backups retention removed, keeping the newest few. */
async function pruneRuns(ctx: OperatorContext, schedules: KubeObject[], runs: KubeObject[]): Promise<void> {
  for (const b of schedules) {
    const mine = runs.filter((r) => r.metadata.labels?.[LABEL_BACKUP] === b.metadata.name && finished(r)).sort((x, y) => y.metadata.name.localeCompare(x.metadata.name, undefined, { numeric: true }));
    for (const r of mine.slice(FINISHED_RUNS_KEPT)) {
      const dir: string | undefined = r.status?.backup?.dir;
      const stamp: string | undefined = r.status?.backup?.stamp;
      const onDisk = dir && stamp ? listFolder(dir).some((e) => e.stamp === stamp) : false;
      if (onDisk) continue;
      try {
        await ctx.kube.delete(ETCDBACKUPS, r.metadata.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
