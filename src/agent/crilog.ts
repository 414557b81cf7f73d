/**
 * Container logs as the kubelet keeps them: one file per container start, `<dir>/<attempt>.log`,
 * each line in the CRI format `<RFC3339Nano time> <stdout|stderr> <F|P> <text>` so that `kubectl
 * logs` can filter by time (--since), show times (--timestamps), and read the previous start.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** A longer line is cut into partial (P) records, as CRI runtimes do at 16 KiB. */
const MAX_LINE = 16 * 1024;

export function logAttempts(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^(\d+)\.log$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The next start's file: numbering continues across agent restarts, so `--previous` stays right. */
export function nextLogFile(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const last = logAttempts(dir).at(-1);
  return join(dir, `${last === undefined ? 0 : last + 1}.log`);
}

/** RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints in UTC (trailing zeros trimmed). */
export function criTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => (ms === '000' ? 'Z' : `.${ms.replace(/0+$/, '')}Z`));
}

export function criLine(time: Date, stream: 'stdout' | 'stderr', partial: boolean, text: string): string {
  return `${criTime(time)} ${stream} ${partial ? 'P' : 'F'} ${text}\n`;
}

export interface CriRecord {
  time: Date;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

export function parseCriLine(line: string): CriRecord | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!m) return undefined;
  const time = new Date(m[1]!);
  if (Number.isNaN(time.getTime())) return undefined;
  return { time, stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', text: m[4]! };
}

/** Writes a process's stdout and stderr into one CRI log file, line by line. */
export class CriLogWriter {
  private fd: number | undefined;
  private readonly pending = { stdout: '', stderr: '' };

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o640);
  }

  attach(stream: 'stdout' | 'stderr', from: Readable): void {
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => this.write(stream, chunk));
    from.on('end', () => this.flush(stream));
  }

  write(stream: 'stdout' | 'stderr', chunk: string): void {
    let buf = this.pending[stream] + chunk;
    const now = new Date();
    let out = '';
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      out += this.records(now, stream, buf.slice(0, nl), false);
      buf = buf.slice(nl + 1);
    }
    while (buf.length > MAX_LINE) {
      out += criLine(now, stream, true, buf.slice(0, MAX_LINE));
      buf = buf.slice(MAX_LINE);
    }
    this.pending[stream] = buf;
    this.append(out);
  }

  private records(now: Date, stream: 'stdout' | 'stderr', line: string, partial: boolean): string {
    let out = '';
    while (line.length > MAX_LINE) {
      out += criLine(now, stream, true, line.slice(0, MAX_LINE));
      line = line.slice(MAX_LINE);
    }
    return out + criLine(now, stream, partial, line);
  }

  /** A last line without a newline is still a full record once the stream ends. */
  flush(stream: 'stdout' | 'stderr'): void {
    const rest = this.pending[stream];
    this.pending[stream] = '';
    if (rest) this.append(criLine(new Date(), stream, false, rest));
  }

  private append(text: string): void {
    if (!text || this.fd === undefined) return;
    try {
      writeSync(this.fd, text);
    } catch {
      // The log folder went away (the host's folder was moved aside): the container keeps running.
    }
  }

  close(): void {
    this.flush('stdout');
    this.flush('stderr');
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface LogQuery {
  previous: boolean;
  tailLines?: number;
  sinceTime?: Date;
  timestamps: boolean;
  limitBytes?: number;
}

/** Which file a query reads: the current start's, or with --previous the one before it. */
export function logFileFor(dir: string, previous: boolean): string | undefined {
  const attempts = logAttempts(dir);
  const n = previous ? attempts.at(-2) : attempts.at(-1);
  return n === undefined ? undefined : join(dir, `${n}.log`);
}

/** Renders CRI records as kubectl shows them: the text, with the time in front if asked. */
export function renderRecord(r: CriRecord, timestamps: boolean): string {
  return `${timestamps ? `${criTime(r.time)} ` : ''}${r.text}${r.partial ? '' : '\n'}`;
}

/** The lines of one log file that a query selects (tail and since applied), rendered. */
export function selectLog(text: string, q: LogQuery): { out: string; bytes: number } {
  let records = text.split('\n').filter(Boolean).map(parseCriLine).filter((r): r is CriRecord => r !== undefined);
  if (q.sinceTime) records = records.filter((r) => r.time >= q.sinceTime!);
  if (q.tailLines !== undefined) {
    // Tail counts full lines: a partial record belongs to the line its final record ends.
    let lines = 0;
    let i = records.length;
    while (i > 0) {
      if (!records[i - 1]!.partial) {
        if (lines === q.tailLines) break;
        lines++;
      }
      i--;
    }
    records = records.slice(i);
  }
  let out = records.map((r) => renderRecord(r, q.timestamps)).join('');
  if (q.limitBytes !== undefined && Buffer.byteLength(out) > q.limitBytes) out = Buffer.from(out).subarray(0, q.limitBytes).toString('utf8');
  return { out, bytes: Buffer.byteLength(text) };
}

export function readLogFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
