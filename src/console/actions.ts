/**
 * The console's buttons, each the same domain call as a CLI command (named in `cli`), run in the
 * background with its progress pushed to the pages, and a Kubernetes Event with the user for
 * each one that changes something. Requests name what to act on (a mode, a host, a backup by
 * location and stamp); paths are the server's own, never taken from the page.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { listFolder, type CatalogEntry } from '../backup/catalog.js';
import { drillAndRecord } from '../backup/drill-record.js';
import { makeBackup } from '../backup/make.js';
import { chooseHost } from '../backup/placement.js';
import { backupRequestFor } from '../backup/request.js';
import type { BackupEvent } from '../backup/run.js';
import { hostBackupDir } from '../backup/where.js';
import { defragCommand, type DefragEvent } from '../defrag/procedure.js';
import { compileRule, RuleError } from '../defrag/rule.js';
import { thresholdRule } from '../defrag/thresholds.js';
import { humanizeBytes } from '../etcd/humanize.js';
import { ApiError } from '../kube/client.js';
import { requestKeyRotation, rotationDone, setEncryptionMode, checkEncryptionMode, modeSettled } from '../operator/encryption/admin.js';
import { encryptionReport } from '../operator/encryption/report.js';
import { BACKUPS } from '../operator/backup.js';
import { previewRestore } from '../recovery/preview.js';
import { objectLabel, type ObjectRef, type StaleStateReport } from '../recovery/stale-state.js';
import { errorMessage, UserError } from '../util/errors.js';
import { recordConsoleEvent } from './events.js';
import type { Hub } from './hub.js';
import { backupFolders } from './pages.js';
import { homeMembers } from './sampler.js';
import type { ActionRecord, EncryptionView, RestorePreview } from './wire.js';

/** A request the console refuses, with the HTTP status to answer. */
export class ActionError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ETCD_OBJECT = { kind: 'Etcd', name: 'cluster', apiVersion: 'operator.openshift.io/v1' };
const APISERVER_OBJECT = { kind: 'APIServer', name: 'cluster', apiVersion: 'config.openshift.io/v1' };
const KAS_OBJECT = { kind: 'KubeAPIServer', name: 'cluster', apiVersion: 'operator.openshift.io/v1' };
/** How long an encryption action follows the operator before it says it is still going. */
const ENCRYPTION_WAIT_MS = 15 * 60_000;

type Body = Record<string, unknown>;

const str = (b: Body, k: string): string | undefined => (typeof b[k] === 'string' ? (b[k] as string) : undefined);

export class Actions {
  constructor(private readonly hub: Hub) {}

  private get o() {
    return this.hub.o;
  }

  private etcd() {
    if (!this.o.etcd) throw new ActionError(409, 'this console has no etcd credentials: start it with --home (the home whose members to reach)');
    return this.o.etcd;
  }

  /** Starts an action; answers at once with its record, the work goes on in the background. */
  start(kind: string, body: Body): ActionRecord {
    const run = this.plan(kind, body);
    if (run.exclusive && this.hub.actions.some((a) => a.state === 'running' && a.kind !== 'encryption-mode' && a.kind !== 'encryption-rotate' && a.kind !== 'restore-preview' && !a.kind.endsWith('-plan'))) {
      throw new ActionError(409, 'another backup, drill or defrag is running: wait for it to finish');
    }
    const rec: ActionRecord = { id: randomBytes(6).toString('hex'), kind, title: run.title, state: 'running', started: Date.now(), lines: [], cli: run.cli };
    this.hub.actions.push(rec);
    this.hub.publishActions();
    const say = (line: string) => {
      rec.lines.push(line);
      this.hub.publishActions();
    };
    void run
      .work(say, rec)
      .then((result) => {
        rec.state = 'succeeded';
        if (result !== undefined) rec.result = result;
      })
      .catch((err: unknown) => {
        rec.state = 'failed';
        rec.error = err instanceof ApiError ? `the API server said ${err.code} ${err.reason}: ${err.message}` : errorMessage(err);
      })
      .finally(() => {
        rec.finished = Date.now();
        this.hub.publishActions();
        for (const s of run.refresh) this.hub.refresh(s);
        void this.hub.sampler?.sample().catch(() => undefined);
      });
    return rec;
  }

  private event(involved: { kind: string; name: string; apiVersion?: string }, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): Promise<void> {
    return recordConsoleEvent(this.o.kube, this.o.user, involved, reason, message, type).catch(() => undefined);
  }

  private plan(kind: string, body: Body): { title: string; cli: string; exclusive: boolean; refresh: Array<'encryption' | 'backups' | 'defrag' | 'overview'>; work: (say: (l: string) => void, rec: ActionRecord) => Promise<unknown> } {
    switch (kind) {
      case 'encryption-mode': {
        const mode = str(body, 'mode') ?? '';
        try {
          checkEncryptionMode(mode);
        } catch (err) {
          throw new ActionError(400, errorMessage(err));
        }
        const cli = mode === 'identity' ? 'etcd-ops encryption disable --wait' : `etcd-ops encryption enable ${mode} --wait`;
        return {
          title: mode === 'identity' ? 'Disable encryption' : `Enable ${mode} encryption`,
          cli,
          exclusive: false,
          refresh: ['encryption'],
          work: async (say) => {
            say(await setEncryptionMode(this.o.kube, mode));
            await this.event(APISERVER_OBJECT, 'ConsoleEncryptionModeChanged', `spec.encryption.type set to ${mode} from the console`);
            await this.followEncryption(say, (v) => Boolean(v.report && modeSettled(v.report, mode)));
          },
        };
      }
      case 'encryption-rotate':
        return {
          title: 'Rotate encryption keys',
          cli: 'etcd-ops encryption rotate --wait',
          exclusive: false,
          refresh: ['encryption'],
          work: async (say) => {
            const req = await requestKeyRotation(this.o.kube, await encryptionReport(this.o.kube));
            say(`asked for new encryption keys (reason ${req.reason})`);
            await this.event(KAS_OBJECT, 'ConsoleEncryptionKeyRotationRequested', `new encryption keys asked from the console (reason ${req.reason})`);
            await this.followEncryption(say, (v) => Boolean(v.report && rotationDone(req, v.report)));
          },
        };
      case 'backup-now': {
        const e = this.etcd();
        const asked = str(body, 'host');
        if (asked && !e.cluster.hosts.some((h) => h.name === asked)) throw new ActionError(400, `no host "${asked}": hosts are ${e.cluster.hosts.map((h) => h.name).join(', ')}`);
        return {
          title: `Back up now${asked ? ` (${asked})` : ''}`,
          cli: `etcd-ops backup ${hostBackupDir(e.home, asked ?? '<host>')} --host ${asked ?? '<host>'}`,
          exclusive: true,
          refresh: ['backups'],
          work: async (say, rec) => {
            const host = asked ?? this.pickBackupHost();
            const dir = hostBackupDir(e.home, host);
            rec.cli = `etcd-ops backup ${dir} --host ${host}`;
            say(`backing up ${host} into ${dir}`);
            const req = backupRequestFor(dir, { conn: { ...e.conn, commandTimeoutMs: Math.max(e.conn.commandTimeoutMs, 10_000) }, home: e.home, cluster: e.cluster }, { host });
            try {
              const made = await makeBackup({ ...req, record: true, report: (ev) => say(backupLine(ev)) });
              say(`saved ${made.stamp}: revision ${made.record.revision}, ${humanizeBytes(made.record.files.reduce((n, f) => n + f.size, 0))}`);
              await this.event(ETCD_OBJECT, 'ConsoleBackupCreated', `backup ${made.stamp} of ${host} saved in ${dir} from the console`);
              return { stamp: made.stamp, host, dir };
            } catch (err) {
              await this.event(ETCD_OBJECT, 'ConsoleBackupFailed', `backup of ${host} from the console failed: ${errorMessage(err)}`, 'Warning');
              throw err;
            }
          },
        };
      }
      case 'backup-drill': {
        const location = str(body, 'location');
        const stamp = str(body, 'stamp');
        if (!location || !stamp) throw new ActionError(400, 'name the backup: location and stamp');
        return {
          title: `Drill ${stamp}`,
          cli: `etcd-ops backup drill <folder>/snapshot_${stamp}.db`,
          exclusive: true,
          refresh: ['backups'],
          work: async (say, rec) => {
            const path = await this.backupPath(location, stamp);
            rec.cli = `etcd-ops backup drill ${path}`;
            say(`drilling ${path}`);
            const r = await drillAndRecord({ path, log: say });
            for (const s of r.steps) say(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} ${s.ms} ms ${s.detail}`);
            say(r.result === 'Passed' ? `PASSED in ${(r.durationMs / 1000).toFixed(1)}s` : `FAILED: ${r.reason}`);
            await this.event(ETCD_OBJECT, r.result === 'Passed' ? 'ConsoleBackupDrillPassed' : 'ConsoleBackupDrillFailed', `drill of backup ${stamp} from the console: ${r.result}${r.reason ? `: ${r.reason}` : ''}`, r.result === 'Passed' ? 'Normal' : 'Warning');
            if (r.result === 'Failed') throw new UserError(`the drill failed: ${r.reason}`);
            return { result: r.result, proven: r.proven, durationMs: r.durationMs };
          },
        };
      }
      case 'restore-preview': {
        const e = this.etcd();
        const location = str(body, 'location');
        const stamp = str(body, 'stamp');
        if (!location || !stamp) throw new ActionError(400, 'name the backup: location and stamp');
        return {
          title: `Restore preview of ${stamp}`,
          cli: `etcd-ops restore --preview <folder>`,
          exclusive: false,
          refresh: [],
          work: async (say, rec) => {
            const { dir, entry } = await this.backupEntry(location, stamp);
            if (!entry.snapshot || !entry.bundle) throw new UserError(`backup ${stamp} in ${dir} is not whole: ${entry.problem ?? 'a file is missing'}`);
            rec.cli = `etcd-ops restore --preview --home ${e.home} ${dir}`;
            say(`comparing backup ${stamp} (${dir}) with a snapshot of the live cluster; nothing is changed`);
            const report = await previewRestore({
              home: e.home,
              cluster: e.cluster,
              conn: e.conn,
              backupDir: dir,
              ignoreVersionSkew: false,
              pair: { dir, snapshot: join(dir, entry.snapshot), bundle: join(dir, entry.bundle) },
            });
            const changed = report.resources.reduce((n, r) => n + r.revert.length + r.lose.length + r.resurrect.length, 0);
            say(`${changed} object(s) differ, ${report.risks.length} risk(s) outside etcd`);
            return previewForPage(location, stamp, dir, report);
          },
        };
      }
      case 'defrag-plan':
      case 'defrag-run':
      case 'defrag-recover': {
        const e = this.etcd();
        const recover = kind === 'defrag-recover';
        const dryRun = kind === 'defrag-plan';
        const { text, flag } = ruleChoice(str(body, 'rule'));
        let rule;
        try {
          rule = compileRule(text);
        } catch (err) {
          if (err instanceof RuleError) throw new ActionError(400, err.message);
          throw err;
        }
        const cli = `etcd-ops defrag${recover ? ' --recover' : flag}${dryRun ? ' --dry-run' : ''}`;
        return {
          title: recover ? 'NOSPACE recovery' : dryRun ? 'Defrag plan (dry run)' : 'Defragment',
          cli,
          exclusive: !dryRun,
          refresh: ['defrag', 'overview'],
          work: async (say) => {
            const conn = { ...e.conn, commandTimeoutMs: Math.max(e.conn.commandTimeoutMs, 30_000) };
            try {
              const report = await defragCommand(
                conn,
                homeMembers(e.cluster),
                { rule, dryRun, force: false, moveLeader: false, recover, minWaitMs: 0, catchUpTimeoutMs: 60_000 },
                (ev) => {
                  const l = defragLine(ev);
                  if (l) say(l);
                },
              );
              if (!dryRun) {
                const failed = report.results.filter((r) => r.error);
                const what = report.results.map((r) => `${r.name ?? r.endpoint} ${humanizeBytes(r.before.dbSize)} → ${r.after ? humanizeBytes(r.after.dbSize) : '?'}`).join(', ') || 'no member matched';
                await this.event(ETCD_OBJECT, recover ? 'ConsoleNospaceRecovery' : 'ConsoleDefragment', `${recover ? 'NOSPACE recovery' : 'defragmentation'} from the console: ${what}${report.alarms ? `; ${report.alarms.message}` : ''}`, failed.length ? 'Warning' : 'Normal');
                if (failed.length) throw new UserError(`${failed.length} member(s) failed: ${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
              }
              return {
                dryRun,
                rule: text,
                steps: report.plan.steps.map((s) => ({ member: s.member.name ?? s.member.endpoint, leader: s.member.isLeader, dbSize: s.member.dbSize, dbSizeInUse: s.member.dbSizeInUse })),
                skipped: report.plan.skipped.map((s) => ({ member: s.member.name ?? s.member.endpoint, reason: s.reason })),
                results: report.results.map((r) => ({ member: r.name ?? r.endpoint, before: r.before.dbSize, after: r.after?.dbSize, error: r.error })),
                alarms: report.alarms?.message,
              };
            } catch (err) {
              if (!dryRun && err instanceof UserError && !/member\(s\) failed/.test(err.message)) {
                await this.event(ETCD_OBJECT, recover ? 'ConsoleNospaceRecovery' : 'ConsoleDefragment', `${recover ? 'NOSPACE recovery' : 'defragmentation'} from the console refused: ${err.message}`, 'Warning');
              }
              throw err;
            }
          },
        };
      }
      default:
        throw new ActionError(404, `no action "${kind}"`);
    }
  }

  /** A healthy follower's host, as the backup controller picks one. */
  private pickBackupHost(): string {
    const tick = this.hub.sampler?.latest;
    const members = (tick?.members ?? []).map((m) => ({ host: m.name, endpoint: m.endpoint, healthy: m.healthy, isLeader: m.isLeader, ...(m.error ? { error: m.error } : {}) }));
    const p = chooseHost(members);
    if ('error' in p) throw new UserError(p.error);
    return p.host;
  }

  /** A listed backup, found in the server's own folders (never a path from the page). */
  private async backupEntry(location: string, stamp: string): Promise<{ dir: string; entry: CatalogEntry }> {
    const schedules = (await this.o.kube.list(BACKUPS)).items;
    const folder = (await backupFolders(this.hub.ctx, schedules)).find((f) => f.id === location);
    if (!folder) throw new UserError(`no backup folder "${location}" (only the hosts' and volumes' backups are read here; pull a remote one first)`);
    const entry = listFolder(folder.dir).find((x) => x.stamp === stamp && x.snapshot);
    if (!entry) throw new UserError(`no backup ${stamp} in ${folder.dir}`);
    return { dir: folder.dir, entry };
  }

  /** The snapshot of a listed backup. */
  private async backupPath(location: string, stamp: string): Promise<string> {
    const { dir, entry } = await this.backupEntry(location, stamp);
    return join(dir, entry.snapshot!);
  }

  /** Follows the operator as `--wait` does, from the console's own refreshes of the report. */
  private followEncryption(say: (l: string) => void, done: (v: EncryptionView) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastStage = '';
      const timer = setTimeout(() => {
        off();
        reject(new UserError(`not finished after ${ENCRYPTION_WAIT_MS / 60_000} minutes: see the Encryption page and the operator's events`));
      }, ENCRYPTION_WAIT_MS);
      const check = (raw: unknown) => {
        const v = raw as EncryptionView;
        if (!v.report) return;
        // Right after the request the report still reads as the old settled state ("done"):
        // not a stage of this action.
        const stage = v.progress && v.progress.stage !== 'done' ? `${v.progress.pct}% ${v.progress.stage}` : '';
        if (stage && stage !== lastStage) {
          lastStage = stage;
          say(stage);
        }
        if (done(v)) {
          clearTimeout(timer);
          off();
          for (const c of v.report.components) {
            const cond = c.conditions.find((x) => x.type === 'Encrypted');
            say(`${c.component}: ${cond?.reason ?? ''}: ${cond?.message ?? ''}`);
          }
          resolve();
        }
      };
      const off = this.hub.onEncryption(check);
      this.hub.refresh('encryption');
    });
  }
}

const NAMES_SHOWN = 50;

/** The report as JSON the page can take: revisions as text, at most NAMES_SHOWN names per list. */
function previewForPage(location: string, stamp: string, dir: string, r: StaleStateReport): RestorePreview {
  const names = (refs: ObjectRef[]) => refs.slice(0, NAMES_SHOWN).map(objectLabel);
  return {
    location,
    stamp,
    dir,
    backup: { source: r.backup.source, revision: r.backup.revision.toString() },
    current: { source: r.current.source, revision: r.current.revision.toString() },
    resources: r.resources
      .filter((x) => x.revert.length + x.lose.length + x.resurrect.length > 0)
      .map((x) => ({ resource: x.resource, revert: x.revert.length, lose: x.lose.length, resurrect: x.resurrect.length, names: { revert: names(x.revert), lose: names(x.lose), resurrect: names(x.resurrect) } })),
    risks: r.risks.map((x) => ({ kind: x.kind, resource: x.resource, object: objectLabel(x.object), change: x.change, detail: x.detail })),
    unreadable: r.unreadable,
  };
}

function ruleChoice(choice: string | undefined): { text: string; flag: string } {
  if (!choice || choice === 'default') return { text: thresholdRule(), flag: '' };
  if (choice === 'all') return { text: 'dbSize > 0', flag: " --rule 'dbSize > 0'" };
  return { text: choice, flag: ` --rule '${choice.replace(/'/g, `'\\''`)}'` };
}

function backupLine(e: BackupEvent): string {
  switch (e.kind) {
    case 'pod-found':
      return `found ${e.pod} in ${e.dir}`;
    case 'pod-skipped':
      return e.why;
    case 'no-resources-dir':
      return 'no resources folder: the archive holds the manifest only';
    case 'snapshot-saved':
      return `snapshot saved: revision ${e.status.revision}, ${e.status.totalKey} keys, ${humanizeBytes(e.status.totalSize)}`;
    case 'config-unreadable':
      return `${e.file}: ${e.error}`;
    case 'saved':
      return `snapshot db and kube resources are successfully saved to ${e.dir}`;
  }
}

function defragLine(e: DefragEvent): string | undefined {
  switch (e.kind) {
    case 'observed':
      return `${e.after ? 'after' : 'before'}: ${e.members.map((m) => `${m.name ?? m.endpoint} ${humanizeBytes(m.dbSize)} (${humanizeBytes(m.dbSizeInUse)} in use)${m.isLeader ? ' leader' : ''}`).join(', ')}`;
    case 'compacting':
      return `compacting to revision ${e.revision}`;
    case 'plan':
      return e.plan.steps.length
        ? `plan: ${e.plan.steps.map((s) => `${s.member.name ?? s.member.endpoint}${s.member.isLeader ? ' (leader, last)' : ''}`).join(' → ')}${e.plan.skipped.length ? `; skipped ${e.plan.skipped.map((s) => `${s.member.name}: ${s.reason}`).join(', ')}` : ''}`
        : `plan: nothing to do (${e.plan.skipped.map((s) => `${s.member.name}: ${s.reason}`).join(', ')})`;
    case 'progress':
      return e.line;
    case 'results':
      return undefined;
    case 'alarms':
      return e.outcome.message;
  }
}
