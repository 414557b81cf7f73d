import nacl from 'tweetnacl';
import type { ReadResult, TransformContext } from './transformer.js';
import { NO_PREFIX, type LeafTransformer } from './leaf.js';
import { TransformError } from './errors.js';
import { randomInto } from './random.js';

const NONCE = 24;
const OVERHEAD = 16;

/** secretbox as kube-apiserver stores it: nonce(24) || NaCl secretbox (tag(16) || XSalsa20 ciphertext). */
export class SecretboxTransformer implements LeafTransformer {
  private readonly key: Uint8Array;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new TransformError(`expected key size 32 for secretbox provider, got ${key.length}`);
    this.key = new Uint8Array(key);
  }

  fromStorage(stored: Buffer, _ctx: TransformContext): ReadResult {
    if (stored.length < NONCE + OVERHEAD) throw new TransformError('the stored data was shorter than the required size');
    const opened = nacl.secretbox.open(stored.subarray(NONCE), stored.subarray(0, NONCE), this.key);
    // kube-apiserver's (misleading) text for a failed Open: tampering, truncation or a wrong key.
    if (!opened) throw new TransformError('output array was not large enough for encryption');
    return { data: Buffer.from(opened.buffer, opened.byteOffset, opened.length), stale: false };
  }

  toStorage(plain: Buffer, ctx: TransformContext): Buffer {
    return this.sealAfter(NO_PREFIX, plain, ctx);
  }

  sealAfter(prefix: Buffer, plain: Buffer, _ctx: TransformContext): Buffer {
    const nonce = randomInto(Buffer.allocUnsafe(NONCE), 0, NONCE);
    const box = nacl.secretbox(plain, nonce, this.key);
    const out = Buffer.allocUnsafe(prefix.length + NONCE + box.length);
    prefix.copy(out, 0);
    nonce.copy(out, prefix.length);
    out.set(box, prefix.length + NONCE);
    return out;
  }
}
