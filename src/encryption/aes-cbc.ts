import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { ReadResult, TransformContext } from './transformer.js';
import { NO_PREFIX, type LeafTransformer } from './leaf.js';
import { TransformError } from './errors.js';
import { randomInto } from './random.js';

const BLOCK = 16;

export function aesAlgorithm(keyLength: number, mode: 'cbc' | 'gcm'): string {
  if (keyLength !== 16 && keyLength !== 24 && keyLength !== 32) {
    throw new TransformError(`crypto/aes: invalid key size ${keyLength}`);
  }
  return `aes-${keyLength * 8}-${mode}`;
}

/**
 * aescbc as kube-apiserver stores it: IV(16) || AES-CBC(PKCS#7-padded plaintext), with a whole
 * block of padding when the plaintext is already aligned. Padding is checked by hand, not by
 * OpenSSL, so corrupt values fail with kube-apiserver's exact reasons.
 */
export class AesCbcTransformer implements LeafTransformer {
  private readonly key: KeyObject;
  private readonly algorithm: string;

  constructor(key: Buffer) {
    this.algorithm = aesAlgorithm(key.length, 'cbc');
    this.key = createSecretKey(key);
  }

  fromStorage(stored: Buffer, _ctx: TransformContext): ReadResult {
    if (stored.length < BLOCK) throw new TransformError('the stored data was shorter than the required size');
    const body = stored.length - BLOCK;
    if (body % BLOCK !== 0) throw new TransformError('the stored data is not a multiple of the block size');
    // kube-apiserver indexes past the end here (a panic); an IV alone is simply not a value.
    if (body === 0) throw new TransformError('invalid PKCS7 data (empty or not padded)');
    const decipher = createDecipheriv(this.algorithm, this.key, stored.subarray(0, BLOCK));
    decipher.setAutoPadding(false);
    // Without padding OpenSSL emits every block from update(); final() only closes the context.
    const out = decipher.update(stored.subarray(BLOCK));
    decipher.final();
    const pad = out[out.length - 1]!;
    if (pad === 0 || pad > out.length) throw new TransformError('invalid PKCS7 data (empty or not padded)');
    for (let i = out.length - pad; i < out.length; i++) {
      if (out[i] !== pad) throw new TransformError('invalid padding on input');
    }
    return { data: out.subarray(0, out.length - pad), stale: false };
  }

  toStorage(plain: Buffer, ctx: TransformContext): Buffer {
    return this.sealAfter(NO_PREFIX, plain, ctx);
  }

  sealAfter(prefix: Buffer, plain: Buffer, _ctx: TransformContext): Buffer {
    const padded = plain.length + BLOCK - (plain.length % BLOCK);
    const out = Buffer.allocUnsafe(prefix.length + BLOCK + padded);
    prefix.copy(out, 0);
    const iv = randomInto(out, prefix.length, BLOCK);
    // OpenSSL's PKCS#7 padding is the same as kube-apiserver's, full block included.
    const cipher = createCipheriv(this.algorithm, this.key, iv);
    let off = prefix.length + BLOCK;
    off += cipher.update(plain).copy(out, off);
    off += cipher.final().copy(out, off);
    return off === out.length ? out : out.subarray(0, off);
  }
}
