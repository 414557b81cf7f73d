/**
 * The seed's recovery (4.10.6) as steps with a journal: on one host as cluster-restore.sh does
 * it (`restore DIR --host H`), or for the whole control plane (`restore DIR`): stop the other
 * hosts' static pods and move their data aside, restore the recovery host as a single member,
 * wait for it, then force new etcd and kube-apiserver revisions, which bring the other hosts
 * back one at a time. Every check runs before the first change; every step can run again.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { runningAgent } from '../agent/control.js';
import { startHosts } from '../controlplane/lifecycle.js';
import { BackupKeys } from '../backup/keys.js';
import { readBundle } from '../backup/archive.js';
import { loadCredentials } from '../controlplane/credentials.js';
import type { Connection } from '../etcd/endpoints.js';
import { endpointStatus } from '../etcd/status.js';
import { memberList } from '../etcd/members.js';
import type { ClusterFile, HostRecord } from '../home/cluster-file.js';
import { hostPaths, kubeconfigPath } from '../home/layout.js';
import { KubeClient, OPERATOR } from '../kube/client.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { UserError, errorMessage } from '../util/errors.js';
import { fileStamp, writeFileAtomic } from '../util/fsx.js';
import { pickBackup, type BackupPair } from './backup-dir.js';
import { bumpAmount, movedAsideMembers, readRevisions } from './bump-default.js';
import { checkBackup, type CheckedBackup } from './checks.js';
import type { RestoreEvent } from './events.js';
import { moveDataDirAside, stopStaticPods, unpackResources } from './host-steps.js';
import { archiveFinished, readJournal, writeJournal, type Journal } from './journal.js';
import { restoreMember } from './member.js';
import { restorePaths } from './paths.js';
import { decoderFor, hostEncryptionConfigs, readStore } from './stale-sources.js';
import { formatStaleState } from './stale-report-text.js';
import { compareStores, type StaleStateReport } from './stale-state.js';
import { grownState, singleMemberState, waitReporting } from './waits.js';
import { stringifyBig } from '../util/bigjson.js';

export interface RestoreRequest {
  home: string;
  cluster: ClusterFile;
  /** TLS and timeouts for the home's etcd (endpoints are chosen per step). */
  conn: Connection;
  backupDir: string | undefined;
  /** `host`: cluster-restore.sh on `host`; `cluster`: the whole recovery, `host` recovering. */
  mode: 'host' | 'cluster';
  host?: string;
  force: boolean;
  ignoreVersionSkew: boolean;
  bumpRevision?: bigint;
  timeoutMs: number;
  etcdctl: string;
  /** Shown the plan; answers whether to go on (the CLI asks, or --yes). */
  confirm: (plan: RestoreEvent & { kind: 'plan' }) => Promise<boolean>;
  report: (e: RestoreEvent) => void;
}

export interface RestoreResult {
  journal: string;
  report?: StaleStateReport;
  reportPath?: string;
}

interface Step {
  id: string;
  title: string;
  run: () => Promise<void>;
}

/** Hosts whose folder is gone: lost with their data, to be replaced (`etcd-ops host replace`). */
export function lostHosts(home: string, cluster: ClusterFile): string[] {
  return cluster.hosts.filter((h) => !existsSync(hostPaths(home, h.name).root)).map((h) => h.name);
}

export async function runRestore(req: RestoreRequest): Promise<RestoreResult> {
  const { home, cluster } = req;
  const lost = lostHosts(home, cluster);
  const recovery = chooseRecoveryHost(req, lost);
  const rp = restorePaths(home, recovery.name);
  const others = cluster.hosts.filter((h) => h.name !== recovery.name && !lost.includes(h.name));

  let journal = readJournal(rp.journal);
  if (journal?.finishedAt) {
    archiveFinished([rp.journal, rp.reportJson, rp.reportText]);
    journal = undefined;
  }
  if (journal && journal.mode !== req.mode) {
    throw new UserError(`an unfinished ${journal.mode === 'host' ? 'single-host restore (--host)' : 'whole-cluster restore'} from ${journal.backup.dir} is in ${rp.journal}: finish it by running it again the same way, or move the journal aside`);
  }

  const pair = pickBackup(req.backupDir);
  let checked: CheckedBackup | undefined;
  if (journal) {
    if (journal.backup.dir !== pair.dir || journal.backup.snapshot !== pair.snapshot || journal.backup.bundle !== pair.bundle) {
      throw new UserError(`a restore from ${journal.backup.snapshot} started at ${journal.startedAt} is unfinished (${rp.journal}): run it again with ${journal.backup.dir} to finish it, or move the journal aside to start another`);
    }
  } else {
    // Every reason to refuse, before anything changes.
    checked = await checkBackup(pair, { etcdVersion: cluster.etcd.version, ignoreVersionSkew: req.ignoreVersionSkew });
    if (req.mode === 'host') await refuseQuorum(req, recovery, others);
  }

  const steps = planSteps(req, recovery, others, lost, () => journal!, () => checked!, pair);
  const plan = { kind: 'plan' as const, steps: steps.map((s) => s.title), lost };
  if (!journal) {
    if (req.mode === 'cluster' && !(await req.confirm(plan))) throw new UserError('restore cancelled: nothing was changed');
    journal = {
      apiVersion: 'etcd-ops.io/v1',
      kind: 'RestoreJournal',
      mode: req.mode,
      startedAt: new Date().toISOString(),
      backup: { dir: pair.dir, snapshot: pair.snapshot, bundle: pair.bundle, sha256: checked!.manifest?.snapshot.sha256 ?? checked!.report.snapshot.sha256 ?? '' },
      recoveryHost: recovery.name,
      otherHosts: others.map((h) => h.name),
      lostHosts: lost,
      clusterToken: `openshift-etcd-${randomUUID()}`,
      forced: {},
      steps: {},
    };
    mkdirSync(rp.journalDir, { recursive: true, mode: 0o700 });
    writeJournal(rp.journal, journal);
  } else {
    req.report(plan);
    req.report({ kind: 'resume', startedAt: journal.startedAt, done: steps.filter((s) => journal!.steps[s.id]).length, total: steps.length, journal: rp.journal });
  }

  for (const [i, step] of steps.entries()) {
    if (journal.steps[step.id]) {
      req.report({ kind: 'step-skipped', index: i + 1, total: steps.length, title: step.title });
      continue;
    }
    req.report({ kind: 'step', index: i + 1, total: steps.length, title: step.title });
    const t0 = Date.now();
    try {
      await step.run();
    } catch (err) {
      journal.failed = { step: step.id, error: errorMessage(err), at: new Date().toISOString() };
      writeJournal(rp.journal, journal);
      throw new UserError(`step ${i + 1} of ${steps.length} (${step.title}) failed: ${errorMessage(err)} — fix that and run the same command again: the restore goes on from step ${i + 1} (journal: ${rp.journal})`);
    }
    journal.steps[step.id] = new Date().toISOString();
    delete journal.failed;
    writeJournal(rp.journal, journal);
    req.report({ kind: 'step-done', index: i + 1, ms: Date.now() - t0 });
  }
  journal.finishedAt = new Date().toISOString();
  writeJournal(rp.journal, journal);
  return { journal: rp.journal, reportPath: existsSync(rp.reportText) ? rp.reportText : undefined };
}

function chooseRecoveryHost(req: RestoreRequest, lost: string[]): HostRecord {
  const { cluster, home } = req;
  const names = cluster.hosts.map((h) => h.name).join(', ');
  if (req.host) {
    const h = cluster.hosts.find((x) => x.name === req.host);
    if (!h) throw new UserError(`no host "${req.host}" in ${home}: hosts are ${names}`);
    if (lost.includes(h.name)) throw new UserError(`${h.name} is lost (${hostPaths(home, h.name).root} is gone): recover on a host that still exists (${cluster.hosts.filter((x) => !lost.includes(x.name)).map((x) => x.name).join(', ') || 'none'})`);
    return h;
  }
  // A restore under way continues where its journal is.
  const underway = cluster.hosts.find((h) => !lost.includes(h.name) && unfinishedJournal(home, h.name));
  if (underway) return underway;
  const first = cluster.hosts.find((h) => !lost.includes(h.name));
  if (!first) throw new UserError(`every host of ${home} is lost (their folders are gone): there is no host to recover on`);
  return first;
}

function unfinishedJournal(home: string, host: string): boolean {
  try {
    const j = readJournal(restorePaths(home, host).journal);
    return j !== undefined && !j.finishedAt;
  } catch {
    return false;
  }
}

/** cluster-restore.sh on one host must not run beside members that still make a quorum of the old cluster. */
async function refuseQuorum(req: RestoreRequest, recovery: HostRecord, others: HostRecord[]): Promise<void> {
  const conn = { ...req.conn, commandTimeoutMs: 2000, dialTimeoutMs: 1000 };
  const answers = await Promise.all(others.map(async (h) => ({ h, st: await endpointStatus(conn, h.clientURL) })));
  const running = answers.filter((a) => a.st.status);
  if (running.length === 0) return;
  let size = req.cluster.hosts.length;
  try {
    size = (await memberList({ ...conn, endpoints: running.map((r) => r.h.clientURL) })).members.filter((m) => !m.isLearner).length;
  } catch {
    // The cluster file's count, then.
  }
  const quorum = Math.floor(size / 2) + 1;
  if (running.length < quorum || req.force) return;
  const who = running.map((r) => r.h.name).join(' and ');
  throw new UserError(
    `${who} still run${running.length === 1 ? 's' : ''} etcd members, ${running.length} of the cluster's ${size}: a quorum that would go on serving the old data beside the restored ${recovery.name}. ` +
      `Stop them first (move etcd-pod.yaml out of their etc/kubernetes/manifests), or run the whole recovery with \`etcd-ops restore DIR\` (no --host); --force restores anyway`,
  );
}

function planSteps(req: RestoreRequest, recovery: HostRecord, others: HostRecord[], lost: string[], journal: () => Journal, checked: () => CheckedBackup, pair: BackupPair): Step[] {
  const { home, cluster } = req;
  const save = () => writeJournal(restorePaths(home, recovery.name).journal, journal());
  const names = (hs: HostRecord[]) => hs.map((h) => h.name).join(', ');
  const steps: Step[] = [];
  if (req.mode === 'cluster' && others.length > 0) {
    steps.push({
      id: 'stop-others',
      title: `stop etcd and the kube-apiserver on ${names(others)}: move their static pod manifests to home/core/assets/manifests-stopped`,
      run: async () => {
        for (const h of others) await stopStaticPods(home, h.name, req.report, req.timeoutMs);
      },
    });
    steps.push({
      id: 'move-others',
      title: `move the etcd data dirs of ${names(others)} aside (to var/lib/etcd-backup)`,
      run: async () => {
        for (const h of others) moveDataDirAside(home, h.name, req.report);
      },
    });
  }
  steps.push({
    id: 'stop-recovery',
    title: `${recovery.name}: stop its static pods (cluster-restore.sh)`,
    run: async () => {
      await stopStaticPods(home, recovery.name, req.report, req.timeoutMs);
    },
  });
  steps.push({
    id: 'move-recovery',
    title: `${recovery.name}: move its etcd data dir aside`,
    run: async () => {
      moveDataDirAside(home, recovery.name, req.report);
    },
  });
  steps.push({
    id: 'decide',
    title: 'choose the revision bump from the moved-aside data dirs, and write the stale-state report',
    run: async () => {
      const j = journal();
      const found = readRevisions(cluster.hosts.filter((h) => !lost.includes(h.name)).flatMap((h) => movedAsideMembers(home, h.name)));
      for (const f of found) if (f.error) req.report({ kind: 'note', text: `cannot read the revision of ${f.path}: ${f.error}; left out of the bump` });
      const auto = bumpAmount(found);
      const amount = req.bumpRevision ?? auto.amount;
      j.bump = amount.toString();
      if (req.bumpRevision === undefined && auto.from) j.bumpFrom = { path: auto.from.path, revision: auto.from.revision.toString() };
      save();
      await writeStaleReport(req, recovery, pair, found.filter((f) => f.revision !== undefined) as Array<{ path: string; revision: bigint }>);
    },
  });
  steps.push({
    id: 'restore-member',
    title: `${recovery.name}: unpack the backup's static pod resources, restore a single member from the snapshot (new cluster token, revisions bumped), start it and the kube-apiserver of the backup's revision`,
    run: async () => {
      const j = journal();
      await unpackResources(home, recovery.name, pair.bundle);
      const c = checked() ?? (await recheck(req, pair));
      await restoreMember({
        home,
        cluster,
        host: recovery,
        snapshot: pair.snapshot,
        revision: c.revision,
        podRevisions: c.podRevisions,
        token: j.clusterToken,
        bump: BigInt(j.bump ?? '0'),
        bumpFrom: j.bumpFrom ? { path: j.bumpFrom.path, revision: BigInt(j.bumpFrom.revision) } : undefined,
        etcdctl: req.etcdctl,
        report: req.report,
      });
    },
  });
  const ca = () => loadCredentials(home).ca.certPem;
  steps.push({
    id: 'wait-single',
    title: req.mode === 'cluster' ? `wait for a healthy single-member control plane on ${recovery.name}` : `wait until the restored member on ${recovery.name} is healthy`,
    run: async () => {
      if (!runningAgent(home, recovery.name)) {
        req.report({ kind: 'note', text: `${recovery.name}: its agent is not running: starting it` });
        await startHosts(home, cluster, [recovery.name]);
      }
      await waitReporting('single-member control plane', req.timeoutMs, req.report, `see ${hostPaths(home, recovery.name).podLogs}`, () =>
        singleMemberState(req.conn, recovery, req.mode === 'cluster' ? ca() : undefined),
      );
    },
  });
  if (req.mode === 'host') return steps;

  const kube = () => new KubeClient(loadKubeconfig(kubeconfigPath(home)), 5000);
  const alive = [recovery, ...others].sort((a, b) => a.name.localeCompare(b.name));
  const forceAndWait = async (key: 'etcd' | 'kubeapiserver', resource: 'etcds' | 'kubeapiservers') => {
    const j = journal();
    const k = kube();
    try {
      // The API may be restarting (a rollout of this very restore): retried until the timeout.
      await waitReporting(`forceRedeploymentReason on ${resource}/cluster`, req.timeoutMs, req.report, 'the API server does not answer: see `etcd-ops ps`', async () => {
        if (!j.forced[key]) {
          const op = await k.get(OPERATOR(resource), 'cluster');
          j.forced[key] = { reason: `recovery-${fileStamp(new Date(j.startedAt))}`, before: op.status?.latestAvailableRevision ?? 0 };
          save();
        }
        await k.mergePatch(OPERATOR(resource), 'cluster', { spec: { forceRedeploymentReason: j.forced[key]!.reason } });
        return { done: true, state: `set to ${j.forced[key]!.reason}` };
      });
      const f = j.forced[key]!;
      const what = key === 'etcd' ? `etcd on ${names(alive)}` : `the kube-apiserver on ${names(alive)}`;
      await waitReporting(`${what} at a new revision`, req.timeoutMs, req.report, 'see `etcd-ops ps` and the operator\'s log (var/log/pods/openshift-kube-apiserver-operator_*)', () =>
        grownState({ ...req.conn, endpoints: alive.map((h) => h.clientURL) }, k, resource, alive, f.before, lost.length === 0),
      );
    } finally {
      k.close();
    }
  };
  steps.push({
    id: 'grow-etcd',
    title: `force a new etcd revision (forceRedeploymentReason): the operator adds ${others.length ? names(others) : 'no other host'} back one at a time, each as a learner first; wait until every host is at the new revision`,
    run: async () => {
      for (const h of others) {
        if (!runningAgent(home, h.name)) {
          req.report({ kind: 'note', text: `${h.name}: its agent is not running: starting it` });
          await startHosts(home, cluster, [h.name]);
        }
      }
      await forceAndWait('etcd', 'etcds');
    },
  });
  steps.push({
    id: 'redeploy-apiserver',
    title: 'force a new kube-apiserver revision and wait until every host runs it',
    run: () => forceAndWait('kubeapiserver', 'kubeapiservers'),
  });
  return steps;
}

/** On a resumed run the backup was checked before; its facts are read again (no changes yet to refuse). */
async function recheck(req: RestoreRequest, pair: BackupPair): Promise<CheckedBackup> {
  return checkBackup(pair, { etcdVersion: req.cluster.etcd.version, ignoreVersionSkew: true });
}

/**
 * The stale-state report of a real restore: the backup against the newest data this restore
 * moved aside (what the cluster held when it stopped), saved beside the journal.
 */
async function writeStaleReport(req: RestoreRequest, recovery: HostRecord, pair: BackupPair, found: Array<{ path: string; revision: bigint }>): Promise<void> {
  const rp = restorePaths(req.home, recovery.name);
  const newest = [...found].sort((a, b) => (a.revision < b.revision ? 1 : -1))[0];
  if (!newest) {
    req.report({ kind: 'note', text: 'no moved-aside data dir could be read: the stale-state report has nothing to compare the backup with' });
    return;
  }
  const report = await staleStateReport(req.home, req.cluster, pair, `${newest.path}/snap/db`, 'the data the restore moved aside');
  writeFileAtomic(rp.reportJson, `${stringifyBig(report, 2)}\n`, 0o600);
  writeFileAtomic(rp.reportText, formatStaleState(report, 'Stale-state report: what this restore undid (seed 4.10.7)'), 0o600);
}

/** The backup against a bbolt file holding the cluster's state (a moved-aside member, or a fresh snapshot). */
export async function staleStateReport(home: string, cluster: ClusterFile, pair: BackupPair, currentDb: string, currentSource: string): Promise<StaleStateReport> {
  const bundle = await readBundle(pair.bundle);
  const backupKeys = new BackupKeys(bundle.encryptionConfigs);
  const liveKeys = new BackupKeys([...hostEncryptionConfigs(home, cluster.hosts.map((h) => h.name)), ...bundle.encryptionConfigs]);
  const b = readStore(pair.snapshot);
  const c = readStore(currentDb);
  return compareStores(
    { source: pair.snapshot, revision: b.revision, objects: b.objects, decode: decoderFor(backupKeys) },
    { source: currentSource, revision: c.revision, objects: c.objects, decode: decoderFor(liveKeys) },
  );
}
