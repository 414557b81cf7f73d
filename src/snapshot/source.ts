import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SnapshotError } from './errors.js';

/**
 * Where the reader gets its bytes: positional reads only, so a multi-GB file costs no more
 * memory than the pages being looked at. The core never sees a path or a file descriptor.
 */
export interface PageSource {
  /** Names the input in error messages (a path, or "buffer"). */
  readonly name: string;
  /** Total bytes available, trailer included. */
  readonly size: number;
  /** Fills `into[offset, offset+length)` from `position`; throws SnapshotError('io') when short. */
  readInto(into: Uint8Array, offset: number, length: number, position: number): void;
  close(): void;
}

export class FileSource implements PageSource {
  readonly size: number;
  private fd: number | undefined;

  constructor(readonly name: string) {
    try {
      this.fd = openSync(name, 'r');
      const st = fstatSync(this.fd);
      if (!st.isFile()) throw new SnapshotError('io', `${name}: not a regular file`);
      this.size = st.size;
    } catch (err) {
      if (this.fd !== undefined) closeSync(this.fd);
      if (err instanceof SnapshotError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new SnapshotError('io', `${name}: cannot open: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
  }

  readInto(into: Uint8Array, offset: number, length: number, position: number): void {
    if (this.fd === undefined) throw new SnapshotError('io', `${this.name}: already closed`);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = readSync(this.fd, into, offset + done, length - done, position + done);
      } catch (err) {
        throw new SnapshotError('io', `${this.name}: read of ${length} bytes at offset ${position} failed: ${(err as Error).message}`, { offset: position });
      }
      if (n === 0) {
        // The file shrank under us (or the caller asked past the end).
        throw new SnapshotError('io', `${this.name}: unexpected end of file at offset ${position + done} (reading ${length} bytes at ${position})`, { offset: position + done });
      }
      done += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** An in-memory snapshot: tests, fuzzing, and bytes that never touched the disk. */
export class BufferSource implements PageSource {
  readonly size: number;
  constructor(
    private readonly bytes: Uint8Array,
    readonly name = 'buffer',
  ) {
    this.size = bytes.length;
  }

  readInto(into: Uint8Array, offset: number, length: number, position: number): void {
    if (position < 0 || position + length > this.bytes.length) {
      throw new SnapshotError('io', `${this.name}: unexpected end of data at offset ${Math.min(position + length, this.bytes.length)} (reading ${length} bytes at ${position})`, { offset: position });
    }
    into.set(this.bytes.subarray(position, position + length), offset);
  }

  close(): void {}
}
