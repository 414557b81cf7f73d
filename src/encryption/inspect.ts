import type { ProviderKeyRef } from './build.js';
import { ENCRYPTED_PREFIX, hasPrefix } from './identity.js';

/** What a stored value is, told from its first bytes alone: nothing is decrypted. */
export type StoredValueKind =
  | {
      readonly kind: 'encrypted';
      /** aescbc, aesgcm, secretbox, kms, or whatever else follows "k8s:enc:". */
      readonly provider: string;
      /** "v1"; "v2" for KMS v2. */
      readonly version: string;
      /** The key name (or KMS plugin name) in the prefix; undefined if the prefix is cut short. */
      readonly keyName: string | undefined;
      /** "k8s:enc:<provider>:v1:<keyName>:" as found, or as much of it as there is. */
      readonly prefix: string;
    }
  | { readonly kind: 'plaintext'; readonly format: 'json' | 'protobuf' }
  | { readonly kind: 'unknown' };

const PROTOBUF_MAGIC = Buffer.from('k8s\x00', 'latin1');
const COLON = 0x3a;

export function classifyStoredValue(stored: Buffer): StoredValueKind {
  if (hasPrefix(stored, ENCRYPTED_PREFIX)) {
    // Names in the prefix are short; never scan far into ciphertext looking for colons.
    const fields: string[] = [];
    let start = ENCRYPTED_PREFIX.length;
    const limit = Math.min(stored.length, start + 512);
    for (let i = start; i < limit && fields.length < 3; i++) {
      if (stored[i] === COLON) {
        fields.push(stored.toString('latin1', start, i));
        start = i + 1;
      }
    }
    const [provider = '', version = '', keyName] = fields;
    return {
      kind: 'encrypted',
      provider,
      version,
      keyName,
      prefix: stored.toString('latin1', 0, start),
    };
  }
  if (hasPrefix(stored, PROTOBUF_MAGIC)) return { kind: 'plaintext', format: 'protobuf' };
  if (stored.length > 0 && stored[0] === 0x7b /* { */) return { kind: 'plaintext', format: 'json' };
  return { kind: 'unknown' };
}

/**
 * Which of a resource's entries (in read order) a stored value belongs to, by prefix only, as the
 * prefix transformers would try first; -1 when none. Index 0 is the write key: anything else is
 * stale. Identity claims every value that is not encrypted.
 */
export function matchingEntry(stored: Buffer, entries: readonly ProviderKeyRef[]): number {
  const encrypted = hasPrefix(stored, ENCRYPTED_PREFIX);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.provider === 'identity') {
      if (!encrypted) return i;
    } else if (hasPrefix(stored, Buffer.from(e.prefix, 'latin1'))) return i;
  }
  return -1;
}
