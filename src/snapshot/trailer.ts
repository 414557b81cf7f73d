import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { SnapshotError } from './errors.js';
import { FileSource, type PageSource } from './source.js';

/**
 * `etcdctl snapshot save` appends the SHA-256 of the database bytes. etcd decides it is there
 * when `size % 512 == 32` (bbolt files are whole pages, so a raw db never matches).
 */
export interface Trailer {
  present: boolean;
  /** Bytes of bbolt database: the file size, minus 32 when the trailer is present. */
  dbLength: number;
  /** The stored SHA-256 (hex), when present. */
  expected?: string;
}

export type TrailerCheck = { status: 'ok'; sha256: string } | { status: 'absent' } | { status: 'skipped' };

export const TRAILER_SIZE = 32;

export function detectTrailer(src: PageSource): Trailer {
  if (src.size % 512 !== TRAILER_SIZE) return { present: false, dbLength: src.size };
  const buf = Buffer.alloc(TRAILER_SIZE);
  src.readInto(buf, 0, TRAILER_SIZE, src.size - TRAILER_SIZE);
  return { present: true, dbLength: src.size - TRAILER_SIZE, expected: buf.toString('hex') };
}

function mismatch(name: string, t: Trailer, actual: string): SnapshotError {
  return new SnapshotError(
    'trailer',
    `${name}: sha256 mismatch: the snapshot's trailer says ${t.expected} but its ${t.dbLength} database bytes hash to ${actual}: the file was damaged or modified after it was saved`,
    { offset: t.dbLength },
  );
}

const CHUNK = 4 * 1024 * 1024;

/** Hashes the database bytes in chunks (bounded memory) and compares with the trailer. */
export function verifyTrailerSync(src: PageSource, t: Trailer): TrailerCheck {
  if (!t.present) return { status: 'absent' };
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafeSlow(Math.min(CHUNK, Math.max(t.dbLength, 1)));
  for (let pos = 0; pos < t.dbLength; ) {
    const n = Math.min(buf.length, t.dbLength - pos);
    src.readInto(buf, 0, n, pos);
    h.update(n === buf.length ? buf : buf.subarray(0, n));
    pos += n;
  }
  const actual = h.digest('hex');
  if (actual !== t.expected) throw mismatch(src.name, t, actual);
  return { status: 'ok', sha256: actual };
}

// Plain JavaScript so the worker needs no TypeScript loader; it only reads and hashes.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { path, length, chunk } = workerData;
try {
  const fd = openSync(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafeSlow(Math.min(chunk, Math.max(length, 1)));
  let pos = 0;
  while (pos < length) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, length - pos), pos);
    if (n === 0) throw new Error('unexpected end of file at offset ' + pos);
    h.update(n === buf.length ? buf : buf.subarray(0, n));
    pos += n;
  }
  closeSync(fd);
  parentPort.postMessage({ sha256: h.digest('hex') });
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) });
}
`;

/**
 * The same check on a worker thread, for a file on disk: the hash runs on another core while
 * the main thread walks the tree, so `snapshot status` costs about max(walk, hash), not the sum.
 */
export function verifyTrailerInWorker(path: string, t: Trailer): Promise<TrailerCheck> {
  if (!t.present) return Promise.resolve({ status: 'absent' });
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, length: t.dbLength, chunk: CHUNK } });
    let settled = false;
    w.once('message', (m: { sha256?: string; error?: string }) => {
      settled = true;
      if (m.error !== undefined) reject(new SnapshotError('io', `${path}: reading for the sha256 check failed: ${m.error}`));
      else if (m.sha256 !== t.expected) reject(mismatch(path, t, m.sha256!));
      else resolve({ status: 'ok', sha256: m.sha256! });
    });
    w.once('error', (err) => {
      if (!settled) reject(new SnapshotError('io', `${path}: the sha256 check failed: ${err.message}`));
      settled = true;
    });
    w.once('exit', (code) => {
      if (!settled) reject(new SnapshotError('io', `${path}: the sha256 check stopped early (exit ${code})`));
      settled = true;
    });
  });
}

/**
 * Starts the trailer check of a file on a worker right away. Lets the CLI begin hashing
 * before it has loaded the rest of the reader.
 */
export function startTrailerCheck(path: string): Promise<TrailerCheck> {
  const src = new FileSource(path);
  let t: Trailer;
  try {
    t = detectTrailer(src);
  } finally {
    src.close();
  }
  const done = verifyTrailerInWorker(path, t);
  // The caller may be busy for a while before it awaits: no unhandled-rejection warning.
  done.catch(() => {});
  return done;
}
