import { stringify } from 'yaml';
import type { EncryptionConfiguration } from '../../encryption/index.js';
import { COMPONENTS, groupResource, type Component } from './components.js';
import { isMigrated, type EncryptionKey, type Mode } from './keys.js';

/** A provider entry as a running API server has it: a mode, and the key's id unless identity. */
export interface KeyRef {
  mode: Mode;
  id?: number;
}

/** What one API server runs for one component: the write provider and the others in order. */
export interface DeployedState {
  write: KeyRef;
  read: KeyRef[];
}

/** What the state controller wants every API server to run for one component. */
export interface DesiredState {
  /** undefined: identity writes (encryption never enabled, or no key yet). */
  write?: EncryptionKey;
  /** Newest first. */
  read: EncryptionKey[];
}

export function deployedState(config: EncryptionConfiguration, component: Component): DeployedState {
  const gr = groupResource(component.resources[0]);
  const entry = config.resources.find((r) => r.resources.includes(gr));
  const refs: KeyRef[] = (entry?.providers ?? [{ type: 'identity' }]).flatMap((p): KeyRef[] => {
    if (p.type === 'identity') return [{ mode: 'identity' }];
    if (p.type === 'kms') return [];
    return p.keys.map((k) => ({ mode: p.type as Mode, id: /^\d+$/.test(k.name) ? Number(k.name) : undefined }));
  });
  const [write, ...rest] = refs;
  return { write: write ?? { mode: 'identity' }, read: rest.filter((r) => r.mode !== 'identity') };
}

const sameKey = (r: KeyRef, k: EncryptionKey) => r.id === k.id && r.mode === k.mode;

/** A key every API server can already read with; identity needs no key to read plaintext. */
export function readableEverywhere(key: EncryptionKey, deployed: DeployedState[]): boolean {
  if (key.mode === 'identity') return true;
  return deployed.length > 0 && deployed.every((d) => [d.write, ...d.read].some((r) => sameKey(r, key)));
}

/**
 * library-go's two-phase rollout: a new key first goes out as a read key; only when every API
 * server can read with it does it become the write key, so no server ever meets data it cannot
 * read. Older keys stay readable until the data is migrated off them; after that, one previous
 * key is kept.
 */
export function desiredState(keys: EncryptionKey[], component: Component, deployed: DeployedState[]): DesiredState {
  if (keys.length === 0) return { read: [] };
  const newestFirst = [...keys].sort((a, b) => b.id - a.id);
  const write = newestFirst.find((k) => readableEverywhere(k, deployed));
  const pending = newestFirst.filter((k) => !write || k.id > write.id);
  const older = write ? newestFirst.filter((k) => k.id < write.id) : [];
  let keepOlder: EncryptionKey[];
  if (write && isMigrated(write, component)) keepOlder = older.slice(0, 1);
  else {
    // Data may still sit under any older key back to the newest one that was fully migrated.
    const lastMigrated = older.findIndex((k) => isMigrated(k, component));
    keepOlder = lastMigrated === -1 ? older : older.slice(0, lastMigrated + 1);
  }
  const read = [...pending, ...keepOlder].filter((k) => k.mode !== 'identity');
  return { write, read };
}

/** True when this API server already runs exactly the desired write key (the migration precondition). */
export function runsDesiredWriteKey(d: DeployedState, desired: DesiredState): boolean {
  if (!desired.write || desired.write.mode === 'identity') return d.write.mode === 'identity';
  return sameKey(d.write, desired.write);
}

type ProviderYaml = Record<string, unknown>;

function provider(k: EncryptionKey): ProviderYaml {
  if (k.mode === 'identity') return { identity: {} };
  return { [k.mode]: { keys: [{ name: String(k.id), secret: k.key.toString('base64') }] } };
}

/** Providers in order: the write key, the read keys newest first, then identity as the fallback. */
export function providersFor(desired: DesiredState): ProviderYaml[] {
  const list: ProviderYaml[] = [];
  if (desired.write && desired.write.mode !== 'identity') list.push(provider(desired.write));
  else list.push({ identity: {} });
  for (const k of desired.read) list.push(provider(k));
  if (desired.write && desired.write.mode !== 'identity') list.push({ identity: {} });
  return list;
}

/** One EncryptionConfiguration for our one API server, with an entry per component. */
export function renderEncryptionConfiguration(desired: Map<string, DesiredState>): string {
  return stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: COMPONENTS.map((c) => ({
      resources: c.resources.map(groupResource),
      providers: providersFor(desired.get(c.name) ?? { read: [] }),
    })),
  });
}

/** Key secrets beyond this many newest, and used by no configuration, are pruned. */
export const KEEP_KEYS = 10;

/** The keys no configuration uses (desired or running anywhere) and older than the 10 newest. */
export function keysToPrune(keys: EncryptionKey[], desired: DesiredState, deployed: DeployedState[], keep = KEEP_KEYS): EncryptionKey[] {
  if (keys.length <= keep) return [];
  const inUse = new Set<number>([...(desired.write ? [desired.write.id] : []), ...desired.read.map((k) => k.id)]);
  for (const d of deployed) for (const r of [d.write, ...d.read]) if (r.id !== undefined) inUse.add(r.id);
  const newest = new Set([...keys].sort((a, b) => a.id - b.id).slice(-keep).map((k) => k.id));
  return keys.filter((k) => !newest.has(k.id) && !inUse.has(k.id));
}
