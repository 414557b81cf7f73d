import { randomBytes } from 'node:crypto';
import { parseEncryptionConfiguration } from '../../encryption/index.js';
import { CORE, isAlreadyExists, type KubeObject } from '../../kube/client.js';
import { Store } from '../../storage/store.js';
import { recordEvent, setConditions, type OperatorContext } from '../context.js';
import { ENCRYPTION_CONFIG_KEY, KUBE_APISERVER } from '../rollout/operands.js';
import { COMPONENTS, type Component } from './components.js';
import type { Condition } from '../../kube/conditions.js';
import { encryptedCondition, migrationProgressing } from './conditions.js';
import {
  ANN_MIGRATED_RESOURCES,
  ANN_MIGRATED_TIMESTAMP,
  FINALIZER,
  KEY_NAMESPACE,
  LABEL_COMPONENT,
  isMigrated,
  keySecret,
  migratedResourcesAnnotation,
  needsNewKey,
  parseKeySecrets,
  type EncryptionKey,
} from './keys.js';
import { migrateComponent, readMigrationRecord } from './migrate.js';
import { decodeConfigSecret, observeEncryption, type EncryptionObservation } from './observe.js';
import { desiredState, keysToPrune, renderEncryptionConfiguration, runsDesiredWriteKey, type DesiredState } from './state.js';
import type { MigrationWorkers } from './workers.js';


const involved = (c: Component, o: EncryptionObservation) => {
  const op = o.operators.get(c.name)!;
  return { kind: op.kind, name: 'cluster', apiVersion: op.apiVersion };
};

/** Key controller: makes key N+1 when library-go would (see needsNewKey). */
export async function syncKeys(ctx: OperatorContext, o: EncryptionObservation): Promise<boolean> {
  let made = false;
  for (const c of COMPONENTS) {
    const keys = o.keys.get(c.name)!;
    const reason = needsNewKey(keys, c, o.mode, o.externalReasons.get(c.name) ?? '', o.rotationIntervalMs, ctx.now());
    if (!reason) continue;
    const id = (keys[keys.length - 1]?.id ?? 0) + 1;
    const key = o.mode === 'identity' ? Buffer.alloc(16) : randomBytes(32);
    try {
      await ctx.kube.create(CORE('secrets', KEY_NAMESPACE), keySecret(c.name, id, o.mode, key, reason, o.externalReasons.get(c.name) ?? ''));
      made = true;
      await recordEvent(ctx, involved(c, o), 'EncryptionKeyCreated', `Secret "${KEY_NAMESPACE}/encryption-key-${c.name}-${id}" successfully created: ["${reason}"]`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  return made;
}

export function desiredStates(o: EncryptionObservation): Map<string, DesiredState> {
  return new Map(COMPONENTS.map((c) => [c.name, desiredState(o.keys.get(c.name)!, c, o.deployed.get(c.name)!)]));
}

/** State controller: writes the configuration every API server should run; the revision controller rolls it out. */
export async function syncState(ctx: OperatorContext, o: EncryptionObservation): Promise<void> {
  const desired = desiredStates(o);
  const text = renderEncryptionConfiguration(desired);
  if (text === o.sourceConfig) return;
  const ref = CORE('secrets', KUBE_APISERVER.namespace);
  const data = { [ENCRYPTION_CONFIG_KEY]: Buffer.from(text).toString('base64') };
  const existing = await ctx.kube.getOrUndefined(ref, 'encryption-config');
  if (existing) await ctx.kube.update(ref, { ...existing, data });
  else await ctx.kube.create(ref, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'encryption-config', namespace: KUBE_APISERVER.namespace }, data });
  for (const c of COMPONENTS) {
    const d = desired.get(c.name)!;
    const before = o.sourceConfig ? parseEncryptionConfiguration(o.sourceConfig).resolve(c.resources[0].resource === 'secrets' ? 'secrets' : `${c.resources[0].resource}.${c.resources[0].group}`) : undefined;
    const wasWrite = before?.entries[0];
    const nowWrite = d.write && d.write.mode !== 'identity' ? String(d.write.id) : undefined;
    if (nowWrite && wasWrite?.keyName !== nowWrite) {
      await recordEvent(ctx, involved(c, o), 'EncryptionKeyPromoted', `Promoted key ${nowWrite} (${d.write!.mode}) to write key for ${c.name}`);
    }
  }
  await recordEvent(ctx, { kind: 'KubeAPIServer', name: 'cluster' }, 'EncryptionConfigChanged', 'Encryption configuration changed: a new revision of the API servers follows');
}

/** The migration precondition: every API server runs the latest revision, which writes with the desired key. */
export function readyToMigrate(o: EncryptionObservation, c: Component, d: DesiredState, latestConfig: string | undefined): boolean {
  if (!o.rolledOut || latestConfig === undefined || latestConfig !== o.sourceConfig) return false;
  return o.deployed.get(c.name)!.every((dep) => runsDesiredWriteKey(dep, d));
}

/**
 * Migration controller: rewrites every object of a component once its new write key runs
 * everywhere. It never waits for a migration: it starts a worker, or finds one running (and
 * hands it the current pace cap), and returns. A worker whose target no longer holds (a new
 * revision rolling out, another write key) is stopped; it resumes from its record when it does.
 */
export async function syncMigration(ctx: OperatorContext, o: EncryptionObservation, workers: MigrationWorkers): Promise<void> {
  const desired = desiredStates(o);
  const latestConfig = decodeConfigSecret(await ctx.kube.getOrUndefined(CORE('secrets', KUBE_APISERVER.namespace), `encryption-config-${o.latestRevision}`));
  const failures: string[] = [];
  for (const c of COMPONENTS) {
    const d = desired.get(c.name)!;
    const running = workers.get(c.name);
    if (running && running.state !== 'running') {
      workers.forget(c.name);
      const why = (running.error as Error)?.message ?? String(running.error);
      if (running.state === 'stopped') ctx.log(`migration of ${c.name} to key ${running.target} stopped: ${why}`);
      // Done: this sync's observation may predate the key's migrated stamp; the next one sees it.
      // Failed: reported below, and tried again on the next sync.
      if (running.state === 'done') continue;
      if (running.state === 'failed') {
        failures.push(`migration of ${c.name} to key ${running.target} failed: ${why}`);
        continue;
      }
    }
    const key = d.write && !isMigrated(d.write, c) && readyToMigrate(o, c, d, latestConfig) ? d.write : undefined;
    const target = key && `${key.id}:${key.mode}`;
    const w = workers.get(c.name);
    if (w) {
      if (w.target !== target) workers.stop(c.name, target ? `the write key is now ${target}` : 'its preconditions no longer hold (a rollout, or a new key)');
      else w.options.migrationObjectsPerSecond = o.migrationObjectsPerSecond;
      continue;
    }
    if (!key) continue;
    const options = { ...ctx.options, migrationPageSize: o.migrationPageSize ?? ctx.options.migrationPageSize, migrationObjectsPerSecond: o.migrationObjectsPerSecond };
    const transformers = parseEncryptionConfiguration(latestConfig!).transformerFor;
    workers.start(c.name, target!, options, async (worker) => {
      const store = new Store(ctx.etcd, transformers, { timeoutMs: ctx.options.etcdTimeoutMs, onTransform: ctx.metrics?.observeTransform });
      await migrateComponent({ ...ctx, options: worker.options }, c, key, store, worker.abort.signal);
      await markMigrated(ctx, c, key);
      await recordEvent(ctx, involved(c, o), 'EncryptionMigrationCompleted', `Migrated ${c.resources.map((r) => r.resource).join(', ')} to write key ${key.id} (${key.mode})`);
    });
  }
  if (failures.length) throw new Error(failures.join('; '));
}

async function markMigrated(ctx: OperatorContext, c: Component, key: EncryptionKey): Promise<void> {
  await ctx.kube.mergePatch(CORE('secrets', KEY_NAMESPACE), key.secretName, {
    metadata: { annotations: { [ANN_MIGRATED_TIMESTAMP]: ctx.now().toISOString().replace(/\.\d+Z$/, 'Z'), [ANN_MIGRATED_RESOURCES]: migratedResourcesAnnotation(c) } },
  });
}

/**
 * Prune controller: keys used by no configuration, beyond the 10 newest, leave the active set.
 * etcd-ops never deletes key material: the secret is archived under a timestamped name without
 * the component label, so the controllers no longer see it, but a backup can still be read.
 */
export async function syncPrune(ctx: OperatorContext, o: EncryptionObservation): Promise<void> {
  const desired = desiredStates(o);
  for (const c of COMPONENTS) {
    for (const k of keysToPrune(o.keys.get(c.name)!, desired.get(c.name)!, o.deployed.get(c.name)!)) {
      await archiveKey(ctx, k);
      await recordEvent(ctx, involved(c, o), 'EncryptionKeyPruned', `Archived unused key secret ${KEY_NAMESPACE}/${k.secretName}`);
    }
  }
}

async function archiveKey(ctx: OperatorContext, k: EncryptionKey): Promise<void> {
  const ref = CORE('secrets', KEY_NAMESPACE);
  const s = await ctx.kube.get(ref, k.secretName);
  const stamp = ctx.now().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  const archived: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: s.type,
    metadata: {
      name: `archived-${k.secretName}-${stamp}`,
      namespace: KEY_NAMESPACE,
      labels: { 'etcd-ops.io/archived-encryption-key': k.component },
      annotations: { ...s.metadata.annotations, 'etcd-ops.io/archived-from': k.secretName, 'etcd-ops.io/archived-at': ctx.now().toISOString() },
    },
    data: s.data,
  };
  try {
    await ctx.kube.create(ref, archived);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  // Only once the copy exists does the original lose its protection and go.
  await ctx.kube.mergePatch(ref, k.secretName, { metadata: { finalizers: (s.metadata.finalizers ?? []).filter((f: string) => f !== FINALIZER) } });
  await ctx.kube.delete(ref, k.secretName);
}

/** Condition controller: Encrypted and EncryptionMigrationControllerProgressing per component. */
export async function setComponentConditions(ctx: OperatorContext, c: Component, o: EncryptionObservation): Promise<void> {
  const record = await readMigrationRecord(ctx, c);
  const keys = (await refreshKeys(ctx, c)) ?? o.keys.get(c.name)!;
  const view = record && !record.completed ? { keyId: record.writeKey, current: record.current, done: record.done, objects: record.objects } : undefined;
  const conditions: Condition[] = [encryptedCondition(c, o.mode, keys, view), migrationProgressing(c, view)];
  if (o.unknownMode) conditions.push({ type: 'EncryptionStateControllerDegraded', status: 'True', reason: 'UnknownMode', message: `unknown encryption mode configured: ${o.unknownMode}` });
  await setConditions(ctx, c.operator, 'cluster', conditions);
}

async function refreshKeys(ctx: OperatorContext, c: Component): Promise<EncryptionKey[] | undefined> {
  const { items } = await ctx.kube.list(CORE('secrets', KEY_NAMESPACE), { labelSelector: `${LABEL_COMPONENT}=${c.name}` });
  return parseKeySecrets(c.name, items);
}

export async function syncConditions(ctx: OperatorContext, o: EncryptionObservation): Promise<void> {
  for (const c of COMPONENTS) await setComponentConditions(ctx, c, o);
}

/** One pass of the encryption controllers, in library-go's order; migrations go on in `workers`. */
export async function syncEncryption(ctx: OperatorContext, workers: MigrationWorkers): Promise<void> {
  let o = await observeEncryption(ctx);
  if (await syncKeys(ctx, o)) o = await observeEncryption(ctx);
  await syncState(ctx, o);
  await syncMigration(ctx, o, workers);
  await syncPrune(ctx, o);
  await syncConditions(ctx, await observeEncryption(ctx));
}

