import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from '../util/fsx.js';
import type { PageSink } from './writer.js';

/**
 * Writes the pages a BoltWriter produces to a file: consecutive pages are gathered into one
 * buffer and written in large positional writes (the writer goes front to back, so nearly
 * every write is an append); the metas at the start come last.
 */
export class FilePageSink implements PageSink {
  private readonly buf: Buffer;
  private bufStart = 0; // file offset of buf[0]
  private bufLen = 0;
  bytesWritten = 0;

  constructor(
    private readonly fd: number,
    private readonly pageSize: number,
    bufferBytes = 4 * 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafeSlow(bufferBytes);
  }

  write(pgid: number, span: Buffer): void {
    const pos = pgid * this.pageSize;
    if (pos !== this.bufStart + this.bufLen || this.bufLen + span.length > this.buf.length) {
      this.flush();
      this.bufStart = pos;
    }
    if (span.length > this.buf.length) {
      this.writeAt(span, pos);
      this.bufStart = pos + span.length;
      return;
    }
    span.copy(this.buf, this.bufLen);
    this.bufLen += span.length;
  }

  flush(): void {
    if (this.bufLen > 0) this.writeAt(this.buf.subarray(0, this.bufLen), this.bufStart);
    this.bufStart += this.bufLen;
    this.bufLen = 0;
  }

  private writeAt(data: Buffer, pos: number): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off, pos + off);
    this.bytesWritten += data.length;
  }
}

/**
 * Runs `fill` against a sink on a temp file next to `path`, then fsync → rename → fsync of the
 * directory: `path` is either untouched or the complete new database. The temp file is removed
 * when `fill` fails (it is ours and incomplete).
 */
export function writeDbFileAtomic<T>(path: string, pageSize: number, fill: (sink: FilePageSink) => T, mode = 0o600): T {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  let ok = false;
  try {
    const sink = new FilePageSink(fd, pageSize);
    const out = fill(sink);
    sink.flush();
    fsyncSync(fd);
    ok = true;
    return out;
  } finally {
    closeSync(fd);
    if (ok) {
      renameSync(tmp, path);
      fsyncDir(dirname(path));
    } else rmSync(tmp, { force: true });
  }
}
