import { createCipheriv, createDecipheriv, createSecretKey, type CipherGCMTypes, type KeyObject } from 'node:crypto';
import type { ReadResult, TransformContext } from './transformer.js';
import { NO_PREFIX, type LeafTransformer } from './leaf.js';
import { TransformError } from './errors.js';
import { randomInto } from './random.js';
import { aesAlgorithm } from './aes-cbc.js';

const NONCE = 12;
const TAG = 16;
const AUTH_FAILED = 'cipher: message authentication failed';

/**
 * aesgcm as kube-apiserver stores it: nonce(12) || ciphertext || tag(16), with the full etcd key
 * as additional authenticated data, so a value copied under another key does not decrypt.
 */
export class AesGcmTransformer implements LeafTransformer {
  private readonly key: KeyObject;
  private readonly algorithm: CipherGCMTypes;

  constructor(key: Buffer) {
    this.algorithm = aesAlgorithm(key.length, 'gcm') as CipherGCMTypes;
    this.key = createSecretKey(key);
  }

  fromStorage(stored: Buffer, ctx: TransformContext): ReadResult {
    if (stored.length < NONCE) throw new TransformError('the stored data was shorter than the required size');
    // Go's AEAD.Open reports a sealed part shorter than the tag as an authentication failure too.
    if (stored.length < NONCE + TAG) throw new TransformError(AUTH_FAILED);
    const tagAt = stored.length - TAG;
    const decipher = createDecipheriv(this.algorithm, this.key, stored.subarray(0, NONCE), { authTagLength: TAG });
    decipher.setAAD(Buffer.from(ctx.key, 'utf8'));
    decipher.setAuthTag(stored.subarray(tagAt));
    const out = decipher.update(stored.subarray(NONCE, tagAt));
    try {
      decipher.final();
    } catch {
      throw new TransformError(AUTH_FAILED);
    }
    return { data: out, stale: false };
  }

  toStorage(plain: Buffer, ctx: TransformContext): Buffer {
    return this.sealAfter(NO_PREFIX, plain, ctx);
  }

  sealAfter(prefix: Buffer, plain: Buffer, ctx: TransformContext): Buffer {
    const out = Buffer.allocUnsafe(prefix.length + NONCE + plain.length + TAG);
    prefix.copy(out, 0);
    const nonce = randomInto(out, prefix.length, NONCE);
    const cipher = createCipheriv(this.algorithm, this.key, nonce, { authTagLength: TAG });
    cipher.setAAD(Buffer.from(ctx.key, 'utf8'));
    let off = prefix.length + NONCE;
    off += cipher.update(plain).copy(out, off);
    off += cipher.final().copy(out, off);
    cipher.getAuthTag().copy(out, off);
    return out;
  }
}
