import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { classifyStoredValue } from '../encryption/index.js';
import type { KeyValue, ValueTransform } from '../snapshot/index.js';
import { UserError } from '../util/errors.js';
import { readBundle } from './archive.js';
import { BackupKeys } from './keys.js';

/**
 * `snapshot get --decrypt-with`: a value transform that reads encrypted values with the keys of
 * a backup's resources archive (or of one EncryptionConfiguration file) and passes every other
 * value through untouched. A value no key reads fails the command, naming its etcd key.
 */
export async function decryptingTransform(path: string): Promise<ValueTransform> {
  const keys = await loadKeys(path);
  return (kv: KeyValue) => {
    if (classifyStoredValue(kv.value).kind !== 'encrypted') return kv.value;
    const etcdKey = kv.key.toString('utf8');
    const r = keys.decrypt(etcdKey, kv.value);
    if (!r.ok) throw new UserError(`cannot decrypt ${JSON.stringify(etcdKey)} with ${path}: ${r.error}`);
    return r.data;
  };
}

async function loadKeys(path: string): Promise<BackupKeys> {
  let gz: boolean;
  try {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    closeSync(fd);
    gz = n === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`--decrypt-with ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!gz) {
    const keys = new BackupKeys([{ path, data: readFileSync(path) }]);
    const bad = keys.configs[0]!.error;
    if (bad) throw new UserError(`--decrypt-with ${path}: neither a resources archive (tar.gz) nor a valid EncryptionConfiguration: ${bad}`);
    return keys;
  }
  const bundle = await readBundle(path);
  if (bundle.encryptionConfigs.length === 0) {
    throw new UserError(`--decrypt-with ${path}: the archive holds no EncryptionConfiguration (static-pod-resources/<pod>-<rev>/secrets/encryption-config/encryption-config): there is no key to decrypt with`);
  }
  const keys = new BackupKeys(bundle.encryptionConfigs);
  if (keys.usable.length === 0) throw new UserError(`--decrypt-with ${path}: no EncryptionConfiguration in it is valid: ${keys.configs.map((c) => `${c.source}: ${c.error}`).join('; ')}`);
  return keys;
}
