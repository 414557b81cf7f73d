/** The two sides of the stale-state comparison, read from bbolt files with the snapshot reader. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BundleFile } from '../backup/archive.js';
import { BackupKeys } from '../backup/keys.js';
import { ENCRYPTION_CONFIG_FILE } from '../backup/static-pods.js';
import { classifyStoredValue, resourceForEtcdKey } from '../encryption/index.js';
import { hostPaths } from '../home/layout.js';
import { openSnapshot } from '../snapshot/index.js';
import { STORAGE_RESOURCES, type Decoder, type StoredObject } from './stale-state.js';

/** Values the risks need (Secrets, PersistentVolumes); the rest are compared by revision only. */
const NEEDS_VALUE = new Set(['secrets', ...STORAGE_RESOURCES]);

export interface Store {
  revision: bigint;
  objects: StoredObject[];
}

/** The live objects of a snapshot or a member's snap/db, as a member started on it would serve them. */
export function readStore(dbPath: string): Store {
  const snap = openSnapshot(dbPath);
  try {
    const live = snap.latest({ prefix: Buffer.alloc(0) });
    const objects: StoredObject[] = [];
    for (const kv of live.values()) {
      const key = kv.key.toString('utf8');
      const resource = resourceForEtcdKey(key);
      if (!resource) continue;
      objects.push({ key, modRevision: kv.modRevision, value: NEEDS_VALUE.has(resource) ? kv.value : Buffer.alloc(0) });
    }
    return { revision: live.headRevision, objects };
  } finally {
    snap.close();
  }
}

/** JSON values as they are, encrypted ones through the keys; undefined for anything else. */
export function decoderFor(keys: BackupKeys): Decoder {
  return (key, value) => {
    let data = value;
    if (classifyStoredValue(value).kind === 'encrypted') {
      const r = keys.decrypt(key, value);
      if (!r.ok) return undefined;
      data = r.data;
    }
    if (data[0] !== 0x7b) return undefined;
    try {
      return JSON.parse(data.toString('utf8')) as Record<string, any>;
    } catch {
      return undefined;
    }
  };
}

/**
 * Every EncryptionConfiguration the home's hosts hold, in every kube-apiserver revision: the
 * keys the cluster's data was written with, whichever revision ran last.
 */
export function hostEncryptionConfigs(home: string, hosts: string[]): BundleFile[] {
  const out: BundleFile[] = [];
  for (const host of hosts) {
    const dir = hostPaths(home, host).staticPodResources;
    if (!existsSync(dir)) continue;
    for (const rev of readdirSync(dir).filter((d) => /^kube-apiserver-pod-\d+$/.test(d))) {
      const file = join(dir, rev, ENCRYPTION_CONFIG_FILE);
      if (existsSync(file)) out.push({ path: `${host}:${rev}/${ENCRYPTION_CONFIG_FILE}`, data: readFileSync(file) });
    }
  }
  return out;
}
