import { close, closeSync, existsSync, fsync, fsyncSync, linkSync, openSync, renameSync, rmSync, unlinkSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir } from '../util/fsx.js';
import { UserError } from '../util/errors.js';

/**
 * Files of one backup run. Everything this run creates is registered here, so that a failure
 * (or Ctrl-C) removes exactly this run's files and never anything that was there before.
 */
export class RunFiles {
  private readonly created = new Set<string>();

  /** Opens a new file for writing, refusing to touch one that exists. */
  create(path: string, mode = 0o600): number {
    let fd: number;
    try {
      fd = openSync(path, 'wx', mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError(`${path} exists already: remove it if it is left over from a failed backup, or choose another folder`);
      throw new UserError(`cannot create ${path}: ${(err as Error).message}`);
    }
    this.created.add(path);
    return fd;
  }

  /**
   * Moves a finished temp file to its final name without ever replacing a file there:
   * link() fails on an existing name where rename() would silently overwrite it.
   */
  publish(tmp: string, final: string): void {
    try {
      linkSync(tmp, final);
      unlinkSync(tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UserError(`${final} exists already: backups are never overwritten; run again in a second or choose another folder`);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
      // A filesystem without hard links: check, then rename (only this run writes these names).
      if (existsSync(final)) throw new UserError(`${final} exists already: backups are never overwritten; run again in a second or choose another folder`);
      renameSync(tmp, final);
    }
    this.created.delete(tmp);
    this.created.add(final);
    fsyncDir(dirname(final));
  }

  /** Removes what this run created (best effort); returns the paths removed. */
  removeAll(): string[] {
    const removed: string[] = [];
    for (const p of this.created) {
      try {
        rmSync(p, { force: true });
        removed.push(p);
      } catch {
        // Nothing more we can do; the error that brought us here is the one to report.
      }
    }
    this.created.clear();
    return removed;
  }

  /** The run succeeded: its files are the user's now. */
  keep(): void {
    this.created.clear();
  }
}

/** Collects small writes into large ones: one write() per MiB instead of one per 32 KiB blob. */
export class BatchWriter {
  private parts: Buffer[] = [];
  private size = 0;
  written = 0;

  constructor(
    private readonly fd: number,
    private readonly batchBytes = 1024 * 1024,
  ) {}

  write(chunk: Buffer): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.batchBytes) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.written += buf.length;
    this.parts = [];
    this.size = 0;
  }

  /** Flushes, fsyncs and closes. */
  finish(): void {
    try {
      this.flush();
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }
}

/**
 * BatchWriter for streams: batches go to the file on libuv's thread pool while the next batch
 * is read off the network, a few in flight at most (positional writes, so order is kept).
 */
export class AsyncBatchWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private position = 0;
  private inflight = new Set<Promise<void>>();
  private failed: Error | undefined;

  constructor(
    private readonly fd: number,
    private readonly batchBytes = 1024 * 1024,
    private readonly maxInflight = 4,
  ) {}

  /** Queues a chunk; resolves at once unless too many batches are still being written. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.batchBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.size === 0) return;
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const p = writeAllAt(this.fd, buf, this.position).catch((err: Error) => {
      this.failed ??= err;
    });
    this.position += buf.length;
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    while (this.inflight.size >= this.maxInflight) await Promise.race(this.inflight);
    if (this.failed) throw this.failed;
  }

  /** Writes what is left, waits for every batch, fsyncs and closes. */
  async finish(): Promise<number> {
    try {
      await this.flush();
      await Promise.all(this.inflight);
      if (this.failed) throw this.failed;
      await new Promise<void>((resolve, reject) => fsync(this.fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      await new Promise<void>((resolve) => close(this.fd, () => resolve()));
    }
    return this.position;
  }

  /** Gives up: waits for writes in flight (they hold the fd), then closes. */
  async abort(): Promise<void> {
    await Promise.all(this.inflight);
    await new Promise<void>((resolve) => close(this.fd, () => resolve()));
  }
}

function writeAllAt(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void =>
      write(fd, buf, off, buf.length - off, position + off, (err, n) => {
        if (err) reject(err);
        else if (off + n < buf.length) step(off + n);
        else resolve();
      });
    step(0);
  });
}
