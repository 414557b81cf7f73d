/**
 * cluster-restore.sh's steps on one host, each safe to run again: stop the static pods by moving
 * their manifests out, move the etcd data dir aside, unpack the backup's static pod resources.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { x as untar } from 'tar';
import { readAgentStatus } from '../agent/status.js';
import { hostPaths } from '../home/layout.js';
import { parsePod } from '../staticpod/pod.js';
import { UserError, errorMessage } from '../util/errors.js';
import { fsyncDir, moveAside } from '../util/fsx.js';
import { isSameProcessAlive } from '../util/proc.js';
import { sleep } from '../util/time.js';
import { restorePaths } from './paths.js';
import type { RestoreEvent } from './events.js';

/** The static pods a 4.10 restore stops (those of them a host runs): etcd and the control plane. */
export const RESTORE_STOPS = ['etcd-pod', 'kube-apiserver-pod', 'kube-controller-manager-pod', 'kube-scheduler-pod'];

/** Moves `from` to `to`; something already at `to` is moved aside first, never replaced. */
function moveKeeping(from: string, to: string, report: (e: RestoreEvent) => void): void {
  if (existsSync(to)) {
    const kept = moveAside(to);
    report({ kind: 'kept-previous', path: to, keptAs: kept });
  }
  renameSync(from, to);
}

/**
 * `...stopping <pod>.yaml` for each manifest, moved to home/core/assets/manifests-stopped; then
 * `Waiting for container <name> to stop`, a dot a second, `complete`, bounded by the timeout.
 */
export async function stopStaticPods(home: string, host: string, report: (e: RestoreEvent) => void, timeoutMs: number): Promise<string[]> {
  const p = hostPaths(home, host);
  const rp = restorePaths(home, host);
  const stopped: string[] = [];
  for (const pod of RESTORE_STOPS) {
    const file = `${pod}.yaml`;
    const manifest = join(p.manifests, file);
    if (!existsSync(manifest)) continue;
    report({ kind: 'stopping', host, manifest: file });
    mkdirSync(rp.manifestsStopped, { recursive: true });
    moveKeeping(manifest, join(rp.manifestsStopped, file), report);
    stopped.push(file);
  }
  fsyncDir(p.manifests);
  // Whatever of these pods still runs, whether it was moved just now or by an earlier run.
  const files = RESTORE_STOPS.map((pod) => `${pod}.yaml`);
  const running = () =>
    (readAgentStatus(p.podStatusFile)?.pods ?? [])
      .filter((pod) => files.includes(pod.manifest) && !existsSync(join(p.manifests, pod.manifest)))
      .flatMap((pod) => pod.containers.filter((c) => c.pid !== undefined && isSameProcessAlive({ pid: c.pid, startTicks: c.startTicks })));
  // As the script: every container of the pods it stopped, running or not; then whatever of
  // theirs still runs (a run that was stopped half-way).
  const names = [...new Set([...stopped.flatMap((file) => containerNames(join(rp.manifestsStopped, file))), ...running().map((c) => c.name)])];
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    report({ kind: 'waiting-container', host, name });
    while (running().some((c) => c.name === name)) {
      if (Date.now() > deadline) {
        const pids = running().filter((c) => c.name === name).map((c) => c.pid);
        report({ kind: 'complete', ok: false });
        throw new UserError(`${host}: container ${name} (pid ${pids.join(', ')}) did not stop within ${Math.round(timeoutMs / 1000)}s after its manifest was moved: is the host's agent running? Stop the processes (\`etcd-ops host kill ${host}\`) and run the restore again`);
      }
      report({ kind: 'tick' });
      await sleep(1000);
    }
    report({ kind: 'complete', ok: true });
  }
  return stopped;
}

function containerNames(manifest: string): string[] {
  try {
    return parsePod(readFileSync(manifest, 'utf8'), manifest).spec.containers.map((c) => c.name);
  } catch {
    return [];
  }
}

/**
 * `Moving etcd data-dir <dir>/member to <etcd-backup>`, as the script does, and whatever else the
 * data dir holds (a restore needs it empty). An older copy there is kept under a timestamp,
 * where the script would remove it. Returns where the member went, if there was one.
 */
export function moveDataDirAside(home: string, host: string, report: (e: RestoreEvent) => void): string | undefined {
  const p = hostPaths(home, host);
  const rp = restorePaths(home, host);
  if (!existsSync(p.etcdDataDir)) return undefined;
  mkdirSync(rp.etcdBackup, { recursive: true, mode: 0o700 });
  let member: string | undefined;
  for (const name of readdirSync(p.etcdDataDir).sort((a, b) => Number(b === 'member') - Number(a === 'member'))) {
    const from = join(p.etcdDataDir, name);
    const to = join(rp.etcdBackup, name);
    if (name === 'member') {
      report({ kind: 'moving-data-dir', host, from, to: rp.etcdBackup });
      member = to;
    } else {
      report({ kind: 'note', text: `${host}: moving ${from} to ${rp.etcdBackup} too: the restore needs an empty data dir` });
    }
    moveKeeping(from, to, report);
  }
  fsyncDir(p.etcdDataDir);
  fsyncDir(rp.etcdBackup);
  return member;
}

/** `tar -C /etc/kubernetes -xzf <bundle> static-pod-resources`: the revisions, keys included, with their modes. */
export async function unpackResources(home: string, host: string, bundle: string): Promise<void> {
  const etcKubernetes = join(hostPaths(home, host).root, 'etc/kubernetes');
  mkdirSync(etcKubernetes, { recursive: true });
  try {
    await untar({ file: bundle, cwd: etcKubernetes, preserveOwner: false, filter: (path) => path.replace(/^\.\//, '').startsWith('static-pod-resources/') });
  } catch (err) {
    throw new UserError(`unpacking ${bundle} into ${etcKubernetes} failed: ${errorMessage(err)}`);
  }
}
