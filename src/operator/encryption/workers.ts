import type { OperatorOptions } from '../context.js';

/**
 * Migrations run beside the controllers, the way library-go's migration controller hands them to
 * the storage version migrator: a sync starts a worker or finds it running, and returns, so key
 * rotation, pruning and the conditions keep being reconciled during a migration of many minutes.
 * The truth stays in the API: a worker records its progress in its ConfigMap and a new leader
 * resumes from there. This only keeps the handles of the workers this process runs.
 */
export interface MigrationWorker {
  /** What it migrates to: "<key id>:<mode>". */
  target: string;
  /** The settings it reads as it goes; a sync updates the pace cap in place. */
  options: OperatorOptions;
  state: 'running' | 'done' | 'failed' | 'stopped';
  error?: unknown;
  abort: AbortController;
}

export class MigrationWorkers {
  private readonly workers = new Map<string, MigrationWorker>();

  get(component: string): MigrationWorker | undefined {
    return this.workers.get(component);
  }

  /** Starts `run` for a component; the caller has made sure none runs for it. */
  start(component: string, target: string, options: OperatorOptions, run: (w: MigrationWorker) => Promise<void>): MigrationWorker {
    const w: MigrationWorker = { target, options, state: 'running', abort: new AbortController() };
    this.workers.set(component, w);
    void run(w).then(
      () => {
        w.state = 'done';
      },
      (err: unknown) => {
        w.state = w.abort.signal.aborted ? 'stopped' : 'failed';
        w.error = err;
      },
    );
    return w;
  }

  /** Forgets a finished worker: its outcome has been taken. */
  forget(component: string): void {
    this.workers.delete(component);
  }

  /** Asks a running worker to stop at its next page; its progress stays recorded. */
  stop(component: string, why: string): void {
    const w = this.workers.get(component);
    if (w?.state === 'running' && !w.abort.signal.aborted) w.abort.abort(new Error(why));
  }
}
