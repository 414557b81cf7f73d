import { StorageTransformError, parseEncryptionConfiguration, resourceForEtcdKey, type EncryptionSetup } from '../encryption/index.js';
import { errorMessage } from '../util/errors.js';
import type { BundleFile } from './archive.js';

/**
 * The keys a backup carries: every EncryptionConfiguration found in its resources archive.
 * A value is readable when any of them reads it, as some API server of that revision would.
 */
export interface LoadedConfig {
  source: string;
  setup?: EncryptionSetup;
  /** Why kube-apiserver would refuse this file (never quotes key material). */
  error?: string;
}

export type Decrypted = { ok: true; data: Buffer; source: string; stale: boolean } | { ok: false; error: string };

export class BackupKeys {
  readonly configs: LoadedConfig[];
  private readonly keyNames = new Set<string>();

  constructor(files: BundleFile[]) {
    this.configs = files.map((f) => {
      try {
        return { source: f.path, setup: parseEncryptionConfiguration(f.data.toString('utf8'), f.path) };
      } catch (err) {
        return { source: f.path, error: errorMessage(err) };
      }
    });
    for (const c of this.configs) {
      for (const rule of c.setup?.rules ?? []) for (const e of rule.entries) if (e.keyName !== undefined) this.keyNames.add(keyId(e.provider, e.keyName));
    }
  }

  get usable(): LoadedConfig[] {
    return this.configs.filter((c) => c.setup);
  }

  /** Whether some configuration names this provider and key (aescbc and key "1"). */
  has(provider: string, keyName: string | undefined): boolean {
    return keyName !== undefined && this.keyNames.has(keyId(provider, keyName));
  }

  /** Reads a stored value with the first configuration that can; the etcd key is aesgcm's AAD. */
  decrypt(etcdKey: string, stored: Buffer, resource = resourceForEtcdKey(etcdKey) ?? 'unknown'): Decrypted {
    const errors: string[] = [];
    for (const c of this.usable) {
      try {
        const r = c.setup!.transformerFor(resource).fromStorage(stored, { key: etcdKey });
        return { ok: true, data: r.data, source: c.source, stale: r.stale };
      } catch (err) {
        errors.push(err instanceof StorageTransformError ? err.reason : errorMessage(err));
      }
    }
    if (this.configs.length === 0) return { ok: false, error: 'the backup holds no EncryptionConfiguration' };
    if (errors.length === 0) return { ok: false, error: `no usable EncryptionConfiguration: ${this.configs.map((c) => c.error).join('; ')}` };
    // An identity-only refusal says less than a keyed provider's reason: report the latter.
    const telling = errors.find((e) => !/identity transformer tried to read encrypted data/.test(e)) ?? errors[0]!;
    return { ok: false, error: telling };
  }
}

export function keyId(provider: string, keyName: string | undefined): string {
  return keyName === undefined ? provider : `${provider}:${keyName}`;
}
