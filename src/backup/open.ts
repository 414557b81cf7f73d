/**
 * Encrypted backup files opened for reading: each `.age` file is decrypted into a private
 * scratch folder (0700, files 0600) that `close()` removes; plain files are used in place. The
 * snapshot reader needs random access, which a stream cipher's output does not give.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { AGE_SUFFIX, decryptFile, isAgeFile, type AgeIdentity } from './age.js';
import { RunFiles } from './files.js';

export interface OpenedFiles {
  /** The plaintext path of each input, in order (the input itself when it was not encrypted). */
  paths: string[];
  decrypted: boolean;
  close(): void;
}

export async function openPlain(inputs: string[], identity: AgeIdentity | undefined, scratchRoot = tmpdir()): Promise<OpenedFiles> {
  if (!inputs.some((p) => isAgeFile(p))) return { paths: inputs, decrypted: false, close() {} };
  const scratch = mkdtempSync(join(scratchRoot, 'etcd-ops-decrypted-'));
  const close = () => rmSync(scratch, { recursive: true, force: true });
  try {
    const paths: string[] = [];
    for (const p of inputs) {
      if (!isAgeFile(p)) {
        paths.push(p);
        continue;
      }
      // The plaintext names, so the stamps still pair the files.
      const name = basename(p).endsWith(AGE_SUFFIX) ? basename(p).slice(0, -AGE_SUFFIX.length) : `${basename(p)}.plain`;
      const out = join(scratch, name);
      await decryptFile(p, out, identity, new RunFiles());
      paths.push(out);
    }
    return { paths, decrypted: true, close };
  } catch (err) {
    close();
    throw err;
  }
}
