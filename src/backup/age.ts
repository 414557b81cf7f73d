/**
 * Client-side encryption of backup files in the age format (age-encryption.org/v1), through the
 * `age-encryption` package: to X25519 recipients (`age1...`, repeatable) or a passphrase
 * (scrypt). Files are streamed through the cipher, so memory stays a few MB whatever their size.
 * An encrypted file keeps its name plus `.age`.
 */
import { createReadStream, existsSync, openSync, closeSync, readFileSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';
import { UserError, errorMessage } from '../util/errors.js';
import { AsyncBatchWriter, type RunFiles } from './files.js';

export const AGE_SUFFIX = '.age';
const AGE_MAGIC = 'age-encryption.org/v1\n';
const READ_CHUNK = 1024 * 1024;

/** Whom a backup is encrypted for: recipients, or one passphrase. */
export type AgeTarget = { recipients: string[] } | { passphrase: string };

/** What can decrypt: secret keys (`AGE-SECRET-KEY-1...`) and passphrases, with where they came from. */
export interface AgeIdentity {
  source: string;
  identities: string[];
  passphrases: string[];
}

export function isAgeName(path: string): boolean {
  return path.endsWith(AGE_SUFFIX);
}

/** True when the file starts with age's header line (whatever its name says). */
export function isAgeFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(AGE_MAGIC.length);
    const n = readSync(fd, b, 0, b.length, 0);
    return n === b.length && b.toString('latin1') === AGE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `--encrypt-to` values: an `age1...` recipient, or a file of them (one a line, `#` comments),
 * as age's -r and -R take them. Each is checked, so a typo fails before any backup is made.
 */
export function parseRecipients(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const lines = v.startsWith('age1') || !existsSync(v) ? [v] : readFileSync(v, 'utf8').split('\n');
    for (const raw of lines) {
      const r = raw.trim();
      if (!r || r.startsWith('#')) continue;
      try {
        new Encrypter().addRecipient(r);
      } catch (err) {
        const shown = r.length > 24 ? `${r.slice(0, 20)}…` : r;
        throw new UserError(`--encrypt-to ${JSON.stringify(shown)} is not an age recipient (${errorMessage(err)}): give an age1... public key, or a file of them`);
      }
      out.push(r);
    }
  }
  if (out.length === 0) throw new UserError('--encrypt-to names no recipient: give an age1... public key, or a file of them');
  return out;
}

/** A passphrase file's first line (key material: never printed). */
export function readPassphraseFile(path: string, flag = '--passphrase-file'): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)}`);
  }
  const pass = text.split('\n')[0]!.replace(/\r$/, '');
  if (!pass) throw new UserError(`${flag} ${path}: the first line is empty: write the passphrase on it`);
  return pass;
}

/**
 * `--identity FILE`: age secret keys, one a line (age-keygen's output, comments allowed). A file
 * without any key is read as a passphrase file, so the same flag opens passphrase backups.
 */
export function readIdentityFile(path: string): AgeIdentity {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`--identity ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(err)}`);
  }
  const identities = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-'));
  for (const id of identities) {
    try {
      new Decrypter().addIdentity(id);
    } catch {
      throw new UserError(`--identity ${path}: a line starting AGE-SECRET-KEY- is not a valid age identity: check the file (age-keygen writes one)`);
    }
  }
  if (identities.length) return { source: path, identities, passphrases: [] };
  return { source: path, identities: [], passphrases: [readPassphraseFile(path, '--identity')] };
}

/** The recipients of an identity file's keys: to encrypt for oneself in tests and drills. */
export async function recipientsOf(id: AgeIdentity): Promise<string[]> {
  return Promise.all(id.identities.map((i) => identityToRecipient(i)));
}

function encrypter(target: AgeTarget): Encrypter {
  const e = new Encrypter();
  if ('passphrase' in target) e.setPassphrase(target.passphrase);
  else for (const r of target.recipients) e.addRecipient(r);
  return e;
}

/** Web stream of a file, read in 1 MiB chunks. */
function fileStream(path: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(path, { highWaterMark: READ_CHUNK })) as unknown as ReadableStream<Uint8Array>;
}

/** Coalesces the cipher's 64 KiB chunks into 1 MiB writes, in order, a few in flight. */
async function drain(stream: ReadableStream<Uint8Array>, out: AsyncBatchWriter, onChunk?: (c: Uint8Array) => void): Promise<number> {
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    onChunk?.(chunk);
    await out.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return out.finish();
}

/**
 * Encrypts `src` into `dst` (a new file, 0600, registered with the run so a failure removes it).
 * Returns the bytes written.
 */
export async function encryptFile(src: string, dst: string, target: AgeTarget, files: RunFiles, onChunk?: (c: Uint8Array) => void): Promise<number> {
  const out = new AsyncBatchWriter(files.create(dst, 0o600));
  try {
    const cipher = await encrypter(target).encrypt(fileStream(src));
    return await drain(cipher, out, onChunk);
  } catch (err) {
    await out.abort().catch(() => {});
    throw err instanceof UserError ? err : new UserError(`encrypting ${src} into ${dst} failed: ${errorMessage(err)}`);
  }
}

function decrypter(id: AgeIdentity): Decrypter {
  const d = new Decrypter();
  for (const i of id.identities) d.addIdentity(i);
  for (const p of id.passphrases) d.addPassphrase(p);
  return d;
}

/** The one line a wrong identity, a damaged file or a file that is not age gets. */
export function decryptError(src: string, id: AgeIdentity | undefined, err: unknown): UserError {
  const msg = errorMessage(err);
  if (!id) return new UserError(`${src} is encrypted (age): give the identity that opens it with --identity FILE`);
  if (/no identity matched/.test(msg)) {
    return new UserError(`${src}: ${id.source} cannot decrypt it: the file was encrypted to other recipients${id.passphrases.length ? ' or with another passphrase' : ''}: give the identity (or passphrase file) it was made for`);
  }
  if (/invalid version|invalid header|unexpected/i.test(msg)) return new UserError(`${src} is not an age file, or its header is damaged (${msg})`);
  return new UserError(`${src}: decryption failed, the file is damaged or cut short (${msg})`);
}

/** Decrypts `src` into a new file `dst` (0600); the header is checked before anything is written. */
export async function decryptFile(src: string, dst: string, id: AgeIdentity | undefined, files: RunFiles): Promise<number> {
  if (!id) throw decryptError(src, id, undefined);
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await decrypter(id).decrypt(fileStream(src));
  } catch (err) {
    throw decryptError(src, id, err);
  }
  const out = new AsyncBatchWriter(files.create(dst, 0o600));
  try {
    return await drain(plain, out);
  } catch (err) {
    await out.abort().catch(() => {});
    throw decryptError(src, id, err);
  }
}
