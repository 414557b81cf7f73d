import { classifyStoredValue, resourceForEtcdKey } from '../encryption/index.js';
import { ownKey } from '../etcd/own-keys.js';
import { keyId, type BackupKeys } from './keys.js';

/**
 * What the live values of a snapshot are made of, per resource, and whether the backup's keys
 * read every encrypted one. Pure: key-values and keys in, counts out.
 */

/** Keys outside the Kubernetes layouts (/registry, /kubernetes.io, /openshift.io) that are not the control plane's own either. */
export const OTHER_KEYS = '(not a Kubernetes key)';

export interface ResourceCounts {
  resource: string;
  kube: boolean;
  keys: number;
  json: number;
  protobuf: number;
  encrypted: number;
  /** Encrypted values per "provider:key". */
  byKey: Record<string, number>;
  /** Neither JSON, protobuf nor an encryption prefix (never said of the control plane's own keys, whose formats are known). */
  undecodable: number;
  /** Encrypted values the backup's keys read back to JSON or protobuf. */
  decrypted: number;
  decryptFailed: number;
  /** Decrypted, but by a key that no longer writes: rewritten on the next update. */
  stale: number;
}

export interface KeyUse {
  id: string;
  provider: string;
  keyName?: string;
  values: number;
  resources: string[];
  inBackup: boolean;
  decrypted: number;
  failed: number;
  /** The first failure, with its etcd key. */
  firstError?: string;
}

export interface Analysis {
  keys: number;
  resources: ResourceCounts[];
  keysNeeded: KeyUse[];
}

export interface KeyValueLike {
  key: Buffer;
  value: Buffer;
}

export function analyzeValues(kvs: Iterable<KeyValueLike>, keys: BackupKeys | undefined): Analysis {
  const byResource = new Map<string, ResourceCounts>();
  const byKey = new Map<string, KeyUse & { resourceSet: Set<string> }>();
  let total = 0;
  for (const kv of kvs) {
    total++;
    const etcdKey = kv.key.toString('utf8');
    const gr = resourceForEtcdKey(etcdKey);
    const own = gr === undefined ? ownKey(etcdKey) : undefined;
    const name = gr ?? own ?? OTHER_KEYS;
    let row = byResource.get(name);
    if (!row) {
      row = { resource: name, kube: gr !== undefined, keys: 0, json: 0, protobuf: 0, encrypted: 0, byKey: {}, undecodable: 0, decrypted: 0, decryptFailed: 0, stale: 0 };
      byResource.set(name, row);
    }
    row.keys++;
    const kind = classifyStoredValue(kv.value);
    if (kind.kind === 'plaintext') {
      if (kind.format === 'json') row.json++;
      else row.protobuf++;
      continue;
    }
    if (kind.kind === 'unknown') {
      if (!own) row.undecodable++;
      continue;
    }
    row.encrypted++;
    const id = keyId(kind.provider, kind.keyName);
    row.byKey[id] = (row.byKey[id] ?? 0) + 1;
    let use = byKey.get(id);
    if (!use) {
      use = { id, provider: kind.provider, ...(kind.keyName !== undefined ? { keyName: kind.keyName } : {}), values: 0, resources: [], resourceSet: new Set(), inBackup: keys?.has(kind.provider, kind.keyName) ?? false, decrypted: 0, failed: 0 };
      byKey.set(id, use);
    }
    use.values++;
    use.resourceSet.add(name);
    if (!keys) continue;
    const r = keys.decrypt(etcdKey, kv.value, gr);
    let error: string | undefined;
    if (!r.ok) error = r.error;
    else if (classifyStoredValue(r.data).kind !== 'plaintext') error = 'decrypted to neither JSON nor protobuf: the key of that name is not the key the data was written with';
    if (error === undefined) {
      row.decrypted++;
      use.decrypted++;
      if (r.ok && r.stale) row.stale++;
    } else {
      row.decryptFailed++;
      use.failed++;
      use.firstError ??= `${etcdKey}: ${error}`;
    }
  }
  const resources = [...byResource.values()].sort((a, b) => Number(b.kube) - Number(a.kube) || a.resource.localeCompare(b.resource));
  const keysNeeded = [...byKey.values()]
    .map(({ resourceSet, ...u }) => ({ ...u, resources: [...resourceSet].sort() }))
    .sort((a, b) => a.id.localeCompare(b.id));
  return { keys: total, resources, keysNeeded };
}

/** 100 only when every value is encrypted; never rounds a missing value up to 100. */
export function encryptedPercent(r: ResourceCounts): number {
  if (r.keys === 0) return 0;
  if (r.encrypted === r.keys) return 100;
  return Math.min(99.9, Math.floor((r.encrypted / r.keys) * 1000) / 10);
}
