import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { startTicks } from '../util/proc.js';
import type { ReadinessProbe } from '../staticpod/pod.js';
import { CriLogWriter, nextLogFile } from './crilog.js';
import { probeOnce } from './probe.js';
import type { ContainerStatus } from './status.js';

export interface ContainerSpec {
  name: string;
  image?: string;
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** One CRI log file per start goes here: `<attempt>.log`. */
  logDir: string;
  readinessProbe?: ReadinessProbe;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** Crash-loop backoff: 1 s doubling to 20 s; a container that ran 30 s starts over at 1 s. */
export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 20_000;
const STABLE_RUN_MS = 30_000;

/**
 * Runs one container as a host process and keeps it running as the restart policy says.
 * The process stays in the agent's process group: losing the host (killing the group) kills it.
 */
export class ContainerRunner {
  private child?: ChildProcess;
  private pidTicks?: number;
  private startedAt?: Date;
  private restarts = 0;
  private backoffMs: number;
  private timer?: NodeJS.Timeout;
  private exitCode?: number;
  private reason?: string;
  private stopping = false;
  private exited?: Promise<void>;
  /** Without a probe a running container counts as ready, as with the kubelet. */
  private ready = false;
  private probeTimer?: NodeJS.Timeout;
  private logFile = '';

  constructor(
    private readonly spec: ContainerSpec,
    private readonly policy: RestartPolicy,
    private readonly onChange: () => void,
    private readonly log: (line: string) => void,
    private readonly backoff: Backoff = { initialMs: BACKOFF_INITIAL_MS, maxMs: BACKOFF_MAX_MS },
  ) {
    this.backoffMs = backoff.initialMs;
  }

  start(): void {
    if (this.stopping) return;
    const logs = new CriLogWriter(nextLogFile(this.spec.logDir));
    this.logFile = logs.path;
    let child: ChildProcess;
    try {
      child = spawn(this.spec.file, this.spec.args, { cwd: this.spec.cwd, env: this.spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      logs.close();
      throw err;
    }
    logs.attach('stdout', child.stdout!);
    logs.attach('stderr', child.stderr!);
    child.once('close', () => logs.close());
    this.child = child;
    this.startedAt = new Date();
    this.exitCode = undefined;
    this.reason = undefined;
    this.pidTicks = child.pid ? startTicks(child.pid) : undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.log(`container ${this.spec.name} failed to start: ${err.message}`);
        this.handleExit(127, null);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.handleExit(code, signal);
        resolve();
      });
    });
    this.log(`started container ${this.spec.name} (attempt ${this.restarts}) pid ${child.pid}: ${this.spec.file} ${this.spec.args.join(' ')}`);
    this.ready = !this.spec.readinessProbe;
    this.scheduleProbe();
    this.onChange();
  }

  private scheduleProbe(): void {
    const probe = this.spec.readinessProbe;
    if (!probe || this.probeTimer) return;
    this.probeTimer = setTimeout(async () => {
      this.probeTimer = undefined;
      if (!this.child || this.stopping) return;
      const ok = await probeOnce(probe, this.spec.env);
      if (this.child && ok !== this.ready) {
        this.ready = ok;
        this.log(`container ${this.spec.name} is ${ok ? 'ready' : 'not ready'}`);
        this.onChange();
      }
      this.scheduleProbe();
    }, this.ready ? probe.periodSeconds * 1000 : 250);
  }

  private handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === undefined) return;
    const ranMs = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    this.child = undefined;
    this.ready = false;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
    if (this.stopping) {
      this.reason = 'Completed';
      this.onChange();
      return;
    }
    this.log(`container ${this.spec.name} exited with ${code ?? signal} after ${Math.round(ranMs / 1000)}s`);
    const restart = this.policy === 'Always' || (this.policy === 'OnFailure' && this.exitCode !== 0);
    if (!restart) {
      this.reason = this.exitCode === 0 ? 'Completed' : 'Error';
      this.onChange();
      return;
    }
    if (ranMs >= STABLE_RUN_MS) this.backoffMs = this.backoff.initialMs;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs);
    this.reason = 'CrashLoopBackOff';
    this.restarts++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, delay);
    this.onChange();
  }

  /** SIGTERM, then SIGKILL after the grace period, like the kubelet. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (!child) return;
    this.onChange();
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(kill);
  }

  status(podHash: string): ContainerStatus {
    const running = this.child !== undefined;
    return {
      id: createHash('sha256').update(`${podHash}/${this.spec.name}/${this.restarts}/${this.startedAt?.toISOString()}`).digest('hex').slice(0, 13),
      name: this.spec.name,
      image: this.spec.image,
      state: running ? (this.stopping ? 'Terminating' : 'Running') : 'Exited',
      ready: running && this.ready && !this.stopping,
      reason: running ? undefined : this.reason,
      restarts: this.restarts,
      pid: running ? this.child?.pid : undefined,
      startTicks: running ? this.pidTicks : undefined,
      startedAt: this.startedAt?.toISOString(),
      exitCode: running ? undefined : this.exitCode,
      log: this.logFile,
    };
  }

  /** What `kubectl exec` needs to run a command in this container's context. */
  get execContext(): { env: Record<string, string>; cwd: string; logDir: string } {
    return { env: this.spec.env, cwd: this.spec.cwd, logDir: this.spec.logDir };
  }

  get name(): string {
    return this.spec.name;
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGABRT: 6, SIGSEGV: 11 } as Record<string, number>)[sig] ?? 0;
}
