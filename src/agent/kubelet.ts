import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { HostPaths } from '../home/layout.js';
import { writeFileAtomic } from '../util/fsx.js';
import { expandVars, parsePod, revisionOf, type Pod } from '../staticpod/pod.js';
import { ContainerRunner, type ContainerSpec } from './container.js';
import type { AgentStatus, PodStatus } from './status.js';

/** The grace a pod gets to stop when its manifest leaves, unless it asks for less. */
const MAX_GRACE_MS = 4000;
const RESYNC_MS = 500;

interface PodWorker {
  file: string;
  hash: string;
  pod: Pod;
  runners: ContainerRunner[];
}

/**
 * Our small kubelet: the manifests folder is the desired state. Each sync compares it with
 * what runs and starts, stops or replaces pods. A changed manifest is a new pod, as for a kubelet.
 */
export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  private readonly manifestErrors = new Map<string, string>();
  private watcher?: FSWatcher;
  private interval?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private again = false;
  private shuttingDown = false;
  private statusTimer?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly host: string,
    private readonly paths: HostPaths,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.paths.manifests, () => this.requestSync());
    } catch {
      // The folder may not exist yet; the periodic resync notices when it does.
    }
    this.interval = setInterval(() => this.requestSync(), RESYNC_MS);
    this.requestSync();
  }

  requestSync(): void {
    if (this.shuttingDown) return;
    if (this.syncing) {
      this.again = true;
      return;
    }
    this.syncing = this.sync()
      .catch((err) => this.log(`sync failed: ${(err as Error).message}`))
      .finally(() => {
        this.syncing = undefined;
        if (this.again) {
          this.again = false;
          this.requestSync();
        }
      });
  }

  private async sync(): Promise<void> {
    const desired = this.readManifests();
    const stops: Promise<void>[] = [];
    for (const [file, worker] of this.workers) {
      const want = desired.get(file);
      // An unreadable manifest keeps its pod running: a half-edited file must not take etcd down.
      if (want === undefined && this.manifestErrors.has(file)) continue;
      if (want?.hash === worker.hash) continue;
      this.workers.delete(file);
      this.log(want ? `manifest ${file} changed: replacing pod ${worker.pod.metadata.name}` : `manifest ${file} removed: stopping pod ${worker.pod.metadata.name}`);
      stops.push(this.stopWorker(worker));
    }
    await Promise.all(stops);
    for (const [file, want] of desired) {
      if (this.workers.has(file) || this.shuttingDown) continue;
      this.log(`manifest ${file}: starting pod ${want.pod.metadata.name}`);
      this.workers.set(file, this.startWorker(file, want.hash, want.pod));
    }
    this.writeStatusSoon();
  }

  private readManifests(): Map<string, { hash: string; pod: Pod }> {
    const out = new Map<string, { hash: string; pod: Pod }>();
    this.manifestErrors.clear();
    if (!existsSync(this.paths.manifests)) return out;
    for (const file of readdirSync(this.paths.manifests).sort()) {
      // Like the kubelet, skip hidden files (editors' and our own temp files).
      if (file.startsWith('.') || !/\.(ya?ml|json)$/.test(file)) continue;
      const path = join(this.paths.manifests, file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue; // moved away between readdir and read
      }
      try {
        out.set(file, { hash: createHash('sha256').update(text).digest('hex').slice(0, 16), pod: parsePod(text, file) });
      } catch (err) {
        this.manifestErrors.set(file, (err as Error).message);
      }
    }
    return out;
  }

  private startWorker(file: string, hash: string, pod: Pod): PodWorker {
    const podName = `${pod.metadata.name}-${this.host}`;
    const runners = pod.spec.containers.map((c) => {
      const env: Record<string, string> = {};
      for (const e of c.env ?? []) env[e.name] = expandVars(e.value ?? '', env);
      const argv = [...c.command, ...(c.args ?? [])].map((a) => expandVars(a, env));
      const spec: ContainerSpec = {
        name: c.name,
        image: c.image,
        file: argv[0],
        args: argv.slice(1),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
        cwd: c.workingDir ?? this.paths.root,
        logDir: join(this.paths.podLogs, `${pod.metadata.namespace}_${podName}`, c.name),
        readinessProbe: c.readinessProbe,
      };
      return new ContainerRunner(spec, pod.spec.restartPolicy, () => this.writeStatusSoon(), (l) => this.log(`${podName}: ${l}`));
    });
    for (const r of runners) r.start();
    return { file, hash, pod, runners };
  }

  private async stopWorker(w: PodWorker): Promise<void> {
    const grace = Math.min((w.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000, MAX_GRACE_MS);
    await Promise.all(w.runners.map((r) => r.stop(grace)));
    this.writeStatusSoon();
  }

  /**
   * A container of a running pod, by the mirror pod's namespace and name, for exec and logs. Without
   * a container name, the pod's default (its annotation, else its first container), as kubectl picks.
   */
  findContainer(namespace: string, podName: string, container?: string): { runner: ContainerRunner; pod: Pod } | { error: string } {
    const w = [...this.workers.values()].find((x) => x.pod.metadata.namespace === namespace && `${x.pod.metadata.name}-${this.host}` === podName);
    if (!w) return { error: `pod ${namespace}/${podName} does not run on ${this.host}` };
    const name = container || w.pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] || w.runners[0]!.name;
    const runner = w.runners.find((r) => r.name === name);
    if (!runner) return { error: `container ${name} is not valid for pod ${podName}` };
    return { runner, pod: w.pod };
  }

  /** Where a pod's container logs are, running or not (logs outlive their pod, as on a node). */
  logDir(namespace: string, podName: string, container: string): string {
    return join(this.paths.podLogs, `${namespace}_${podName}`, container);
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.watcher?.close();
    if (this.interval) clearInterval(this.interval);
    await this.syncing;
    await Promise.all([...this.workers.values()].map((w) => this.stopWorker(w)));
    this.workers.clear();
    this.writeStatus();
  }

  private writeStatusSoon(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.writeStatus();
    }, 20);
  }

  writeStatus(): void {
    writeFileAtomic(this.paths.podStatusFile, JSON.stringify(this.snapshot(), null, 2) + '\n');
  }

  snapshot(): AgentStatus {
    const pods: PodStatus[] = [...this.workers.values()].map((w) => ({
      name: `${w.pod.metadata.name}-${this.host}`,
      namespace: w.pod.metadata.namespace,
      manifest: w.file,
      revision: revisionOf(w.pod),
      hash: w.hash,
      containers: w.runners.map((r) => r.status(w.hash)),
    }));
    return {
      host: this.host,
      agentPid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      pods,
      manifestErrors: [...this.manifestErrors].map(([file, error]) => ({ file, error })),
    };
  }
}
