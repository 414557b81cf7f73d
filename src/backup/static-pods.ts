import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { runningRevision } from '../staticpod/install.js';
import { UserError, errorMessage } from '../util/errors.js';

/** The pods cluster-backup.sh insists on, when they have revisions on the host. */
export const REQUIRED_PODS = ['kube-apiserver-pod', 'kube-controller-manager-pod', 'kube-scheduler-pod', 'etcd-pod'];

export const ENCRYPTION_CONFIG_FILE = 'secrets/encryption-config/encryption-config';

/** The host's etcd certificates, relative to etc/kubernetes (OpenShift's /etc/kubernetes/static-pod-certs). */
export const STATIC_POD_CERTS = 'static-pod-certs';

export interface RunningPod {
  pod: string;
  revision: number;
  /** The resource directory the manifest runs from, absolute. */
  dir: string;
  /** The same, relative to the etc/kubernetes folder: what goes into the archive. */
  relDir: string;
}

export interface HostResources {
  /** The host's etc/kubernetes folder. */
  root: string;
  pods: RunningPod[];
  /** Pods with revisions on disk but no manifest that are not required: left out, with why. */
  skipped: string[];
}

/**
 * For each static pod with revisions under `<root>/static-pod-resources/<pod>-<rev>`, the
 * revision its manifest in `<root>/manifests` actually runs (label `revision`, hostPath volume
 * `resource-dir`), not the newest folder on disk: an installer may have written a newer
 * revision that never started.
 */
export function findRunningPods(root: string, host: string): HostResources {
  const dirs = { manifests: join(root, 'manifests'), staticPodResources: join(root, 'static-pod-resources') };
  if (!existsSync(dirs.staticPodResources)) {
    throw new UserError(`${host}: no ${dirs.staticPodResources}: is ${root} the host's etc/kubernetes folder?`);
  }
  const podNames = new Set<string>();
  for (const name of readdirSync(dirs.staticPodResources)) {
    const m = /^(.+-pod)-(\d+)$/.exec(name);
    if (m && statSync(join(dirs.staticPodResources, name)).isDirectory()) podNames.add(m[1]!);
  }
  const order = (p: string) => (REQUIRED_PODS.includes(p) ? REQUIRED_PODS.indexOf(p) : REQUIRED_PODS.length);
  const pods: RunningPod[] = [];
  const skipped: string[] = [];
  for (const pod of [...podNames].sort((a, b) => order(a) - order(b) || a.localeCompare(b))) {
    const manifest = join(dirs.manifests, `${pod}.yaml`);
    let running;
    try {
      running = runningRevision(dirs, pod);
    } catch (err) {
      throw new UserError(`${host}: cannot read the ${pod} manifest: ${errorMessage(err)}`);
    }
    if (!running) {
      const why = existsSync(manifest) ? `its manifest ${manifest} names no revision (label "revision" and hostPath volume "resource-dir")` : `it has revisions but no manifest ${manifest}`;
      if (!REQUIRED_PODS.includes(pod)) {
        skipped.push(`${pod}: ${why}`);
        continue;
      }
      if (pod === 'etcd-pod') {
        throw new UserError(`${host}: ${why}, so its etcd member is not running: put the manifest back (or start the host) and wait for the member, or back up another host with --host`);
      }
      throw new UserError(`${host}: error finding the manifest of the ${pod}: ${why}. Check that the pod is running, or back up another host with --host`);
    }
    const rel = relative(root, running.resourceDir);
    if (rel.startsWith('..') || !rel.startsWith(`static-pod-resources${sep}`)) {
      throw new UserError(`${host}: the ${pod} manifest runs from ${running.resourceDir}, which is not under ${dirs.staticPodResources}`);
    }
    if (!existsSync(running.resourceDir) || !statSync(running.resourceDir).isDirectory()) {
      throw new UserError(`${host}: the ${pod} manifest runs revision ${running.revision} from ${running.resourceDir}, which does not exist`);
    }
    pods.push({ pod, revision: running.revision, dir: running.resourceDir, relDir: rel.split(sep).join('/') });
  }
  return { root, pods, skipped };
}
