import { humanizeBytes } from '../etcd/humanize.js';

/** Big enough that a backup takes a while even on a quiet host: worth a progress line in a log. */
export const LARGE_DB_BYTES = 256 * 1024 * 1024;

export interface Progress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

const NONE: Progress = { start() {}, update() {}, stop() {} };

/**
 * A byte progress bar on stderr, shown when stderr is a terminal or the database is large
 * (then, in a log, a line every few seconds). stdout stays clean for the status JSON.
 */
export async function byteProgress(label: string, expectedBytes: number, stream: NodeJS.WriteStream = process.stderr): Promise<Progress> {
  const tty = Boolean(stream.isTTY);
  if (!tty && expectedBytes < LARGE_DB_BYTES) return NONE;
  const { SingleBar } = await import('cli-progress');
  const started = Date.now();
  const bar = new SingleBar({
    stream,
    noTTYOutput: !tty,
    notTTYSchedule: 5000,
    hideCursor: tty,
    clearOnComplete: false,
    barsize: 30,
    format: (options, params) => {
      const width = options.barsize ?? 30;
      const filled = Math.round(params.progress * width);
      const bar = (options.barCompleteString ?? '').slice(0, filled) + (options.barIncompleteString ?? '').slice(0, width - filled);
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      const rate = params.value / secs;
      const eta = rate > 0 ? Math.max(0, Math.round((params.total - params.value) / rate)) : 0;
      return `${label} ${bar} ${Math.floor(params.progress * 100)}% | ${humanizeBytes(params.value)} / ${humanizeBytes(params.total)} | ${humanizeBytes(Math.round(rate))}/s | ETA ${eta}s`;
    },
  });
  let total = expectedBytes;
  return {
    start(t) {
      total = t;
      bar.start(t, 0);
    },
    update(done) {
      // The member's database can grow between the status call and the stream.
      if (done > total) bar.setTotal((total = done));
      bar.update(done);
    },
    stop() {
      bar.stop();
    },
  };
}
