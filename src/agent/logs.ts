/**
 * `kubectl logs` on the agent: reads a container's CRI log files. `-f` follows the current file and
 * carries on into the next start's file when the container restarts, so a crash loop can be watched
 * from one command.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { logAttempts, logFileFor, parseCriLine, readLogFile, renderRecord, selectLog, type LogQuery } from './crilog.js';
import { join } from 'node:path';
import { queryBool } from './query.js';

const FOLLOW_POLL_MS = 200;

export interface ParsedLogQuery extends LogQuery {
  follow: boolean;
}

function int(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) throw new Error(`${name}: invalid value ${JSON.stringify(v)}: must be an integer >= ${min}`);
  return Number(v);
}

/** PodLogOptions, as the API server passes them on. */
export function parseLogQuery(q: URLSearchParams, now = new Date()): ParsedLogQuery {
  const sinceSeconds = int(q, 'sinceSeconds', 1);
  const sinceTimeRaw = q.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTimeRaw) throw new Error('at most one of sinceTime or sinceSeconds may be specified');
  let sinceTime: Date | undefined;
  if (sinceTimeRaw) {
    sinceTime = new Date(sinceTimeRaw);
    if (Number.isNaN(sinceTime.getTime())) throw new Error(`sinceTime: invalid value ${JSON.stringify(sinceTimeRaw)}: must be RFC 3339`);
  } else if (sinceSeconds !== undefined) sinceTime = new Date(now.getTime() - sinceSeconds * 1000);
  return {
    follow: queryBool(q, 'follow'),
    previous: queryBool(q, 'previous'),
    timestamps: queryBool(q, 'timestamps'),
    tailLines: int(q, 'tailLines', 0),
    limitBytes: int(q, 'limitBytes', 1),
    sinceTime,
  };
}

export function readLog(dir: string, q: LogQuery): { text: string } | { error: string; code: number } {
  const file = logFileFor(dir, q.previous);
  if (!file) return noLog(dir, q.previous);
  return { text: selectLog(readLogFile(file), q).out };
}

function noLog(dir: string, previous: boolean): { error: string; code: number } {
  const container = dir.split('/').at(-1);
  const pod = dir.split('/').at(-2)?.replace(/^[^_]*_/, '');
  return previous
    ? { error: `previous terminated container "${container}" in pod "${pod}" not found`, code: 400 }
    : { error: `container "${container}" in pod "${pod}" is waiting to start: no log yet`, code: 400 };
}

/** Streams what is there, then what comes, until the client goes away. */
export function followLog(dir: string, q: LogQuery, req: IncomingMessage, res: ServerResponse): void {
  let file = logFileFor(dir, q.previous);
  if (!file) {
    const e = noLog(dir, q.previous);
    res.writeHead(e.code, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(e.error + '\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
  const first = selectLog(readLogFile(file), q);
  res.write(first.out);
  let offset = first.bytes;
  let rest = '';
  let written = Buffer.byteLength(first.out);
  const timer = setInterval(() => {
    const next = readFrom(file!, offset);
    offset += next.length;
    const text = rest + next.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    let out = '';
    for (const l of lines) {
      const r = parseCriLine(l);
      if (r && (!q.sinceTime || r.time >= q.sinceTime)) out += renderRecord(r, q.timestamps);
    }
    if (out) {
      if (q.limitBytes !== undefined && written + Buffer.byteLength(out) > q.limitBytes) {
        res.end(Buffer.from(out).subarray(0, q.limitBytes - written));
        clearInterval(timer);
        return;
      }
      written += Buffer.byteLength(out);
      res.write(out);
    }
    // The container restarted: finish this start's file, then follow the new one from its beginning.
    const newest = logAttempts(dir).at(-1);
    if (!q.previous && newest !== undefined && join(dir, `${newest}.log`) !== file && next.length === 0) {
      file = join(dir, `${newest}.log`);
      offset = 0;
      rest = '';
    }
  }, FOLLOW_POLL_MS);
  const stop = () => clearInterval(timer);
  req.on('close', stop);
  res.on('close', stop);
}

function readFrom(path: string, offset: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = statSync(path).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(Math.min(size - offset, 1 << 20));
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
