/** The file edge of the PKI: certificates are world-readable, private keys 0600. */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fsx.js';
import type { CertKeyPair } from './pki.js';

export interface WrittenPair {
  certFile: string;
  keyFile: string;
}

/** Writes `<dir>/<name>.crt` (0644) and `<dir>/<name>.key` (0600), each atomically. */
export function writeCertKeyPair(dir: string, name: string, pair: CertKeyPair): WrittenPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileAtomic(keyFile, pair.keyPem, 0o600);
  // The umask may have widened nothing, but an existing file replaced by rename keeps our mode only if we set it.
  chmodSync(keyFile, 0o600);
  writeFileAtomic(certFile, pair.certPem, 0o644);
  return { certFile, keyFile };
}

export function writeCert(path: string, certPem: string): void {
  writeFileAtomic(path, certPem, 0o644);
}
