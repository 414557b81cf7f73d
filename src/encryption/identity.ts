import type { ReadResult, TransformContext, Transformer } from './transformer.js';
import { TransformError } from './errors.js';

/** Every encrypted value, whatever its provider, starts with this. */
export const ENCRYPTED_PREFIX = Buffer.from('k8s:enc:');

export function hasPrefix(data: Buffer, prefix: Buffer): boolean {
  const n = prefix.length;
  if (data.length < n) return false;
  // A plain loop beats Buffer.compare's native call for the short prefixes used here.
  for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/**
 * kube-apiserver's "encrypt check" identity: plaintext in, plaintext out, but it refuses to hand
 * out encrypted bytes as if they were an object.
 */
export class IdentityTransformer implements Transformer {
  fromStorage(stored: Buffer, _ctx: TransformContext): ReadResult {
    if (hasPrefix(stored, ENCRYPTED_PREFIX)) throw new TransformError('identity transformer tried to read encrypted data');
    return { data: stored, stale: false };
  }

  toStorage(plain: Buffer, _ctx: TransformContext): Buffer {
    return plain;
  }
}

export const identity = new IdentityTransformer();
