import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEncryptionConfiguration } from '../encryption/index.js';
import { describeEtcdError, type Connection } from '../etcd/connection.js';
import { memberIdHex } from '../etcd/ids.js';
import { endpointStatus, type MemberStatus } from '../etcd/status.js';
import { snapshotStatus, type SnapshotStatus, type StatusReport } from '../snapshot/index.js';
import { UserError, errorMessage } from '../util/errors.js';
import { makeDirs } from '../util/fsx.js';
import { version } from '../version.js';
import { writeResourcesArchive } from './archive.js';
import { AsyncBatchWriter, RunFiles } from './files.js';
import { MANIFEST_API_VERSION, MANIFEST_KIND, encryptionState, serializeManifest, type BackupManifest, type ComponentEncryptionState } from './manifest.js';
import { backupNames, backupStamp, type BackupNames } from './names.js';
import { refusal, type OperatorState } from './operators.js';
import { readOperatorStates } from './read-operators.js';
import { byteProgress, type Progress } from './progress.js';
import { snapshotStream } from './snapshot-stream.js';
import { ENCRYPTION_CONFIG_FILE, findRunningPods, STATIC_POD_CERTS, type RunningPod } from './static-pods.js';

/** cluster-backup.sh's words when the saved snapshot does not check out. */
export const INTEGRITY_FAILED = 'Backup integrity verification failed. Backup appears corrupted. Aborting!';

export interface BackupRequest {
  /** The backup folder, as the user wrote it (echoed in the last line). */
  dir: string;
  force: boolean;
  /** The host's name in a home, for messages and the manifest. */
  host?: string;
  /** The host's etc/kubernetes folder; without it the archive holds only the manifest. */
  resourcesRoot?: string;
  /** The one member to snapshot: the host's own. */
  endpoint: string;
  conn: Connection;
  /** What happens, as it happens: the CLI prints cluster-backup.sh's transcript from these. */
  report: (e: BackupEvent) => void;
  /** How to say what to do when the member is down (differs between a home and --endpoints). */
  memberDownHint: string;
  now?: Date;
}

export type BackupEvent =
  | { kind: 'pod-found'; pod: string; dir: string }
  | { kind: 'pod-skipped'; why: string }
  | { kind: 'no-resources-dir' }
  | { kind: 'snapshot-saved'; status: SnapshotStatus }
  | { kind: 'config-unreadable'; file: string; error: string }
  | { kind: 'saved'; dir: string };

export interface BackupResult {
  names: BackupNames;
  snapshotPath: string;
  resourcesPath: string;
  manifest: BackupManifest;
}

/**
 * cluster-backup.sh for one control-plane host: the running static-pod revisions, no rollout
 * in progress (unless forced), a verified snapshot of the host's own member, then the
 * resources archive. Files appear under their final names only when complete; on any failure
 * (or Ctrl-C) the files this run made are removed.
 */
export async function runBackup(req: BackupRequest): Promise<BackupResult> {
  const dir = resolve(req.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`${req.dir} is a file: give a folder to save the backup in`);
  makeDirs(dir, 0o700);
  const names = backupNames(backupStamp(req.now), req.force);
  const snapshotPath = join(dir, names.snapshot);
  const resourcesPath = join(dir, names.resources);
  for (const p of [snapshotPath, resourcesPath]) {
    if (existsSync(p)) throw new UserError(`${p} exists already: backups are never overwritten; run again in a second or choose another folder`);
  }
  const who = req.host ?? req.endpoint;

  let pods: RunningPod[] = [];
  if (req.resourcesRoot) {
    const found = findRunningPods(req.resourcesRoot, who);
    for (const why of found.skipped) req.report({ kind: 'pod-skipped', why });
    pods = found.pods;
    for (const p of pods) req.report({ kind: 'pod-found', pod: p.pod, dir: p.dir });
  }

  const st = await endpointStatus(req.conn, req.endpoint);
  if (!st.status) {
    const member = req.host ? `${req.host}: its etcd member ${req.endpoint}` : `the etcd member ${req.endpoint}`;
    throw new UserError(`${member} does not answer (${st.error}): ${req.memberDownHint}`);
  }
  const member = st.status;
  if (!req.resourcesRoot) req.report({ kind: 'no-resources-dir' });

  if (!req.force) {
    const why = refusal(await readOperators(req.conn, req.endpoint));
    if (why) throw new UserError(why);
  }

  const files = new RunFiles();
  const onSignal = (sig: NodeJS.Signals) => {
    files.removeAll();
    process.stderr.write(`\netcd-ops: ${sig}: backup stopped; its partial files are removed\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { report, bytes } = await saveSnapshot(req, files, snapshotPath, member);
    req.report({ kind: 'snapshot-saved', status: report.status });

    const encryption = encryptionOf(pods);
    for (const e of encryption) if (e.error) req.report({ kind: 'config-unreadable', file: e.file, error: e.error });
    const manifest: BackupManifest = {
      apiVersion: MANIFEST_API_VERSION,
      kind: MANIFEST_KIND,
      createdAt: (req.now ?? new Date()).toISOString(),
      stamp: names.stamp,
      possiblyDirty: names.possiblyDirty,
      ...(req.host ? { host: req.host } : {}),
      endpoint: req.endpoint,
      etcdOps: { version },
      etcd: {
        version: member.version,
        clusterID: memberIdHex(member.header.cluster_id),
        memberID: memberIdHex(member.header.member_id),
        revision: Number(report.status.revision),
        dbSize: Number(member.dbSize),
      },
      snapshot: {
        file: names.snapshot,
        size: bytes,
        sha256: (report.trailer as { sha256: string }).sha256,
        status: {
          hash: report.status.hash,
          revision: Number(report.status.revision),
          totalKey: report.status.totalKey,
          totalSize: report.status.totalSize,
        },
      },
      staticPods: pods.map((p) => ({ pod: p.pod, revision: p.revision, dir: p.relDir })),
      encryption,
    };
    await writeResourcesArchive({
      files,
      tmpPath: `${resourcesPath}.part`,
      finalPath: resourcesPath,
      root: req.resourcesRoot ?? dir,
      // The member's own certificates and the etcd CA bundle (never the signer's key): a restore on
      // this host needs them when its folder was lost; they are all static-pod-certs holds.
      relDirs: [...pods.map((p) => p.relDir), ...(req.resourcesRoot && existsSync(join(req.resourcesRoot, STATIC_POD_CERTS)) ? [STATIC_POD_CERTS] : [])],
      manifest: serializeManifest(manifest),
    });
    files.keep();
    req.report({ kind: 'saved', dir: req.dir });
    return { names, snapshotPath, resourcesPath, manifest };
  } catch (err) {
    files.removeAll();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Streams the member's snapshot into `<file>.part` (0600), fsyncs, verifies, then names it. */
async function saveSnapshot(req: BackupRequest, files: RunFiles, path: string, member: MemberStatus): Promise<{ report: StatusReport; bytes: number }> {
  const part = `${path}.part`;
  const bytes = await downloadSnapshot({ endpoint: req.endpoint, conn: req.conn, files, path: part, expectedBytes: Number(member.dbSize) + 32 });
  let report: StatusReport;
  try {
    report = await snapshotStatus(part);
  } catch (err) {
    throw new UserError(`${INTEGRITY_FAILED} (${errorMessage(err)})`);
  }
  if (report.trailer.status !== 'ok') throw new UserError(`${INTEGRITY_FAILED} (${part}: the member sent no sha256 trailer)`);
  files.publish(part, path);
  return { report, bytes };
}

/**
 * The snapshot phase alone (what `etcdctl snapshot save` does): the member's stream into a new
 * file, mode 0600, written in large batches and fsynced. Returns the bytes written.
 */
export async function downloadSnapshot(o: { endpoint: string; conn: Connection; files: RunFiles; path: string; expectedBytes: number }): Promise<number> {
  const out = new AsyncBatchWriter(o.files.create(o.path, 0o600));
  let progress: Progress | undefined;
  let bytes = 0;
  try {
    progress = await byteProgress('snapshot', o.expectedBytes);
    const p = progress;
    for await (const chunk of snapshotStream({ endpoint: o.endpoint, conn: o.conn, onStart: (s) => p.start(s.expectedBytes) })) {
      await out.write(chunk);
      bytes += chunk.length;
      p.update(bytes);
    }
  } catch (err) {
    await out.abort();
    throw err instanceof UserError ? err : new UserError(`writing ${o.path} failed: ${errorMessage(err)}`);
  } finally {
    progress?.stop();
  }
  try {
    return await out.finish();
  } catch (err) {
    throw new UserError(`writing ${o.path} failed: ${errorMessage(err)}`);
  }
}

/** The operator objects under /kubernetes.io/operator.openshift.io/, read from the member itself. */
async function readOperators(conn: Connection, endpoint: string): Promise<OperatorState[]> {
  try {
    return await readOperatorStates(conn, [endpoint]);
  } catch (err) {
    throw new UserError(`cannot read the operators' status from ${endpoint}: ${describeEtcdError(err, conn)}. Pass the --force flag to skip checks.`);
  }
}

/** Modes and key names of every EncryptionConfiguration in the revisions being saved. */
function encryptionOf(pods: RunningPod[]): ComponentEncryptionState[] {
  const out: ComponentEncryptionState[] = [];
  for (const p of pods) {
    const file = join(p.dir, ENCRYPTION_CONFIG_FILE);
    if (!existsSync(file)) continue;
    const rel = `${p.relDir}/${ENCRYPTION_CONFIG_FILE}`;
    try {
      const setup = parseEncryptionConfiguration(readFileSync(file, 'utf8'), rel);
      out.push({ pod: p.pod, revision: p.revision, file: rel, resources: encryptionState(setup) });
    } catch (err) {
      out.push({ pod: p.pod, revision: p.revision, file: rel, resources: [], error: errorMessage(err) });
    }
  }
  return out;
}
