import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/fsx.js';
import { parsePod, resourceDirOf, revisionOf, serializePod, type Pod } from './pod.js';

export interface RevisionFile {
  /** Path inside the revision directory, e.g. `secrets/encryption-config/encryption-config`. */
  path: string;
  data: string | Buffer;
  mode?: number;
}

export interface StaticPodDirs {
  manifests: string;
  staticPodResources: string;
}

export function revisionDir(dirs: StaticPodDirs, podName: string, revision: number): string {
  return join(dirs.staticPodResources, `${podName}-${revision}`);
}

/**
 * What library-go's installer does on a host: write the revision's resources into
 * `static-pod-resources/<pod>-<rev>/`, keep a copy of the pod there, and only then swap the
 * manifest, so the kubelet restarts the pod on a complete revision.
 */
export function installRevision(dirs: StaticPodDirs, podName: string, revision: number, pod: Pod, files: RevisionFile[]): string {
  const dir = revisionDir(dirs, podName, revision);
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileAtomic(join(dir, f.path), f.data, f.mode ?? 0o644);
  }
  const manifest = serializePod(pod);
  writeFileAtomic(join(dir, `${podName}.yaml`), manifest);
  mkdirSync(dirs.manifests, { recursive: true });
  writeFileAtomic(join(dirs.manifests, `${podName}.yaml`), manifest);
  return dir;
}

export interface RunningRevision {
  podName: string;
  revision: number;
  resourceDir: string;
  manifestPath: string;
}

/** The revision the host's manifest actually runs (not the newest folder on disk). */
export function runningRevision(dirs: StaticPodDirs, podName: string): RunningRevision | undefined {
  const manifestPath = join(dirs.manifests, `${podName}.yaml`);
  if (!existsSync(manifestPath)) return undefined;
  const pod = parsePod(readFileSync(manifestPath, 'utf8'), manifestPath);
  const revision = revisionOf(pod);
  const resourceDir = resourceDirOf(pod);
  if (revision === undefined || resourceDir === undefined) return undefined;
  return { podName, revision, resourceDir, manifestPath };
}
