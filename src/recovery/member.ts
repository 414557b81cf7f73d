/**
 * The restore pod's work on the recovery host: the member restored from the snapshot as a
 * single-member cluster with a new token, revisions bumped, and the static pods started from
 * the backup's revisions (cluster-restore.sh, then OpenShift's restore-etcd pod).
 */
import { copyFileSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENCRYPTION_CONFIG_PATH, KUBE_APISERVER_POD, kubeApiserverRevision } from '../apiserver/pod.js';
import { ETCD_POD, etcdPod } from '../etcd/pod.js';
import type { ClusterFile, HostRecord } from '../home/cluster-file.js';
import { hostPaths } from '../home/layout.js';
import { installRevision, revisionDir, runningRevision } from '../staticpod/install.js';
import { serializePod } from '../staticpod/pod.js';
import { UserError } from '../util/errors.js';
import { fsyncDir, moveAside, writeFileAtomic } from '../util/fsx.js';
import type { RestoreEvent } from './events.js';
import { hasMemberData } from '../etcd/discover.js';
import { restorePaths } from './paths.js';
import { snapshotRestore } from '../restore/snapshot-restore.js';

/** Marks the single-member pod the restore starts, as OpenShift names it restore-etcd. */
export const RESTORE_POD_ANNOTATION = 'etcd-ops.io/restore-pod';

export interface MemberRestore {
  home: string;
  cluster: ClusterFile;
  host: HostRecord;
  snapshot: string;
  /** The snapshot's revision, for the transcript. */
  revision: bigint;
  podRevisions: Record<string, number>;
  token: string;
  bump: bigint;
  bumpFrom?: { path: string; revision: bigint };
  etcdctl: string;
  report: (e: RestoreEvent) => void;
}

export async function restoreMember(o: MemberRestore): Promise<void> {
  const p = hostPaths(o.home, o.host.name);
  const rp = restorePaths(o.home, o.host.name);
  // cp -p snapshot /var/lib/etcd-backup/snapshot.db: the restore reads the copy, not the backup.
  mkdirSync(rp.etcdBackup, { recursive: true, mode: 0o700 });
  const copy = join(rp.etcdBackup, 'snapshot.db');
  if (!existsSync(p.etcdDataDir) || !hasMemberData(p.etcdDataDir)) {
    if (existsSync(copy)) moveAside(copy);
    copyFileSync(o.snapshot, copy, constants.COPYFILE_FICLONE);
  }
  o.report({ kind: 'restore-pod' });
  o.report({ kind: 'snapshot-revision', revision: o.revision });
  o.report({ kind: 'bump', amount: o.bump, from: o.bumpFrom });
  o.report({ kind: 'single-node' });

  if (hasMemberData(p.etcdDataDir)) {
    // A run stopped after the restored member moved in (it moves in whole, by a rename).
    o.report({ kind: 'note', text: `${o.host.name}: ${p.etcdDataDir} already holds the restored member (from this restore's earlier run)` });
  } else {
    // Partial restores a killed run left beside the data dir: copies of the snapshot, ours to remove.
    for (const n of readdirSync(dirname(p.etcdDataDir))) if (n.startsWith('.etcd.restore-')) rmSync(join(dirname(p.etcdDataDir), n), { recursive: true, force: true });
    const entries = existsSync(p.etcdDataDir) ? readdirSync(p.etcdDataDir) : [];
    if (entries.length > 0) {
      throw new UserError(`please delete the contents of the ${p.etcdDataDir} directory before restoring, running the restore script will do this for you (it holds ${entries.join(', ')})`);
    }
    const res = await snapshotRestore({
      snapshot: copy,
      dataDir: p.etcdDataDir,
      name: o.host.name,
      initialCluster: `${o.host.name}=${o.host.peerURL}`,
      initialClusterToken: o.token,
      initialAdvertisePeerUrls: o.host.peerURL,
      bumpRevision: o.bump,
      etcdctl: o.etcdctl,
    });
    const b = res.rewrite?.bump;
    o.report({ kind: 'restored', host: o.host.name, revision: b?.latest.main ?? o.revision, bumped: b?.bumped ?? o.revision, token: o.token });
  }

  const etcdRev = o.podRevisions[ETCD_POD] ?? runningRevisionIn(rp.manifestsStopped, p.staticPodResources, ETCD_POD) ?? 1;
  const pod = etcdPod({ home: o.home, cluster: o.cluster, host: o.host, revision: etcdRev, initialCluster: [o.host], clusterToken: o.token, initialClusterState: 'new' });
  pod.metadata.annotations = { ...pod.metadata.annotations, [RESTORE_POD_ANNOTATION]: o.token };
  mkdirSync(revisionDir(p, ETCD_POD, etcdRev), { recursive: true });
  writeFileAtomic(join(p.manifests, `${ETCD_POD}.yaml`), serializePod(pod));

  const kasRev = o.podRevisions[KUBE_APISERVER_POD];
  if (kasRev === undefined) {
    o.report({ kind: 'note', text: `the backup holds no ${KUBE_APISERVER_POD} revision: starting the one this host ran before the restore` });
    const stopped = join(rp.manifestsStopped, `${KUBE_APISERVER_POD}.yaml`);
    if (existsSync(stopped)) writeFileAtomic(join(p.manifests, `${KUBE_APISERVER_POD}.yaml`), readFileSync(stopped));
    return;
  }
  const rel = `static-pod-resources/${KUBE_APISERVER_POD}-${kasRev}/${KUBE_APISERVER_POD}.yaml`;
  o.report({ kind: 'starting-manifest', file: `${KUBE_APISERVER_POD}.yaml`, from: rel });
  // Rendered for this host from the backup's revision: the same file when the backup was taken
  // here; this host's ports and paths when it was taken on another.
  const dir = revisionDir(p, KUBE_APISERVER_POD, kasRev);
  const configFile = join(dir, ENCRYPTION_CONFIG_PATH);
  if (!existsSync(configFile)) throw new UserError(`the backup's ${KUBE_APISERVER_POD}-${kasRev} has no ${ENCRYPTION_CONFIG_PATH}: the API server cannot start from it`);
  const r = kubeApiserverRevision({ home: o.home, cluster: o.cluster, host: o.host, revision: kasRev, encryptionConfig: readFileSync(configFile, 'utf8') });
  installRevision(p, KUBE_APISERVER_POD, kasRev, r.pod, r.files);
  fsyncDir(p.manifests);
}

/** The revision of a pod's manifest that the restore moved out, if it names one. */
function runningRevisionIn(stoppedDir: string, staticPodResources: string, pod: string): number | undefined {
  try {
    return runningRevision({ manifests: stoppedDir, staticPodResources }, pod)?.revision;
  } catch {
    return undefined;
  }
}
