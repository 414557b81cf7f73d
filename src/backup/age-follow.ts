/**
 * Encryption that follows a file while it is being written: a worker thread reads the snapshot's
 * `.part` file as the download grows it and streams it through age (the `age-encryption`
 * package) into the `.age` file, so the cipher runs on the second core while the member's
 * stream is still arriving, instead of after it. Memory stays at a few 1 MiB chunks.
 */
import { Worker } from 'node:worker_threads';
import type { AgeTarget } from './age.js';

// Plain JavaScript so the worker needs no TypeScript loader; the age package is imported by URL.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
let finalSize = -1;
let aborted = false;
parentPort.on('message', (m) => {
  if (typeof m.done === 'number') finalSize = m.done;
  if (m.abort) aborted = true;
});
(async () => {
  const { Encrypter } = await import(workerData.ageUrl);
  const e = new Encrypter();
  if (workerData.passphrase !== undefined) e.setPassphrase(workerData.passphrase);
  else for (const r of workerData.recipients) e.addRecipient(r);
  const CH = 1024 * 1024;
  let pos = 0;
  const src = new ReadableStream({
    async pull(c) {
      for (;;) {
        if (aborted) return c.error(new Error('stopped'));
        const buf = Buffer.allocUnsafe(CH);
        const n = fs.readSync(workerData.fd, buf, 0, CH, pos);
        if (n > 0) {
          pos += n;
          return c.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, n));
        }
        if (finalSize >= 0 && pos >= finalSize) return c.close();
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  }, { highWaterMark: 2 });
  const out = fs.openSync(workerData.dst, 'wx', 0o600);
  const h = crypto.createHash('sha256');
  let written = 0;
  let pending = [];
  let size = 0;
  const flush = () => {
    if (!size) return;
    const b = Buffer.concat(pending, size);
    let off = 0;
    while (off < b.length) off += fs.writeSync(out, b, off, b.length - off);
    pending = [];
    size = 0;
  };
  try {
    for await (const chunk of await e.encrypt(src)) {
      h.update(chunk);
      pending.push(chunk);
      size += chunk.length;
      written += chunk.length;
      if (size >= CH) flush();
    }
    flush();
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(out);
  }
  parentPort.postMessage({ ok: true, bytes: written, sha256: h.digest('hex') });
})().catch((err) => parentPort.postMessage({ ok: false, error: String((err && err.message) || err) }));
`;

export interface FollowingEncryption {
  /** The source is complete at this size: finish and resolve. */
  done(size: number): Promise<{ bytes: number; sha256: string }>;
  /** Stop (the backup failed); resolves when the worker has let go of the files. */
  abort(): Promise<void>;
}

/** Starts encrypting the open file `fd` into the new file `dst` (0600) as it grows. */
export function followEncrypt(fd: number, dst: string, target: AgeTarget): FollowingEncryption {
  const data = { fd, dst, ageUrl: import.meta.resolve('age-encryption'), ...('passphrase' in target ? { passphrase: target.passphrase } : { recipients: target.recipients }) };
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
  const result = new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
    w.once('message', (m: { ok: boolean; bytes: number; sha256: string; error?: string }) => (m.ok ? resolve({ bytes: m.bytes, sha256: m.sha256 }) : reject(new Error(m.error))));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the encryption worker exited with ${code}`)));
  });
  result.catch(() => {});
  return {
    done(size: number) {
      w.postMessage({ done: size });
      return result.finally(() => void w.terminate());
    },
    async abort() {
      w.postMessage({ abort: true });
      await result.catch(() => {});
      await w.terminate();
    },
  };
}
