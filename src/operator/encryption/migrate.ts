import { CORE, isAlreadyExists, isConflict, type KubeObject } from '../../kube/client.js';
import { prefixRangeEnd, resourcePrefix } from '../../storage/keys.js';
import type { RewriteResult, Store } from '../../storage/store.js';
import { sleep } from '../../util/time.js';
import { OPERATOR_NAMESPACE, type OperatorContext } from '../context.js';
import { groupResource, type Component } from './components.js';
import type { EncryptionKey } from './keys.js';

/**
 * The durable progress of one component's migration, in a ConfigMap, so a crash or a new
 * leader resumes at the last finished chunk instead of starting over.
 */
export interface MigrationRecord {
  writeKey: number;
  mode: string;
  /** Where each resource stands: the next key to read, or done. */
  resources: Record<string, { continueKey: string; done: boolean; objects: number }>;
  current?: string;
  done: string[];
  objects: number;
  completed: boolean;
  startedAt: string;
}

const recordName = (c: Component) => `encryption-migration-${c.name}`;
const REF = CORE('configmaps', OPERATOR_NAMESPACE);

export async function readMigrationRecord(ctx: OperatorContext, c: Component): Promise<(MigrationRecord & { resourceVersion: string }) | undefined> {
  const cm = await ctx.kube.getOrUndefined(REF, recordName(c));
  if (!cm?.data?.progress) return undefined;
  try {
    return { ...(JSON.parse(cm.data.progress) as MigrationRecord), resourceVersion: cm.metadata.resourceVersion };
  } catch {
    return undefined;
  }
}

async function saveRecord(ctx: OperatorContext, c: Component, r: MigrationRecord): Promise<void> {
  const body: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: recordName(c), namespace: OPERATOR_NAMESPACE, labels: { 'etcd-ops.io/encryption-migration': c.name } },
    data: { progress: JSON.stringify(r) },
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await ctx.kube.getOrUndefined(REF, recordName(c));
    try {
      if (cur) await ctx.kube.update(REF, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } });
      else await ctx.kube.create(REF, body);
      return;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
    }
  }
}

/** A running migration records its progress (which the conditions report) at least this often. */
const SAVE_EVERY_MS = 1000;

/** The key after `key` in etcd's byte order: where the next page starts. */
const after = (key: string) => `${key}\u0000`;

/**
 * Rewrites every object of the component's resources so it carries the write key: pages in key
 * order at the current revision, several slices in flight, batched compare-and-swap writes
 * (Store.rewriteStale, with the transformers of the configuration that writes with `key`).
 * Objects created meanwhile are written with the new key by the API servers already, so a
 * single pass in key order covers everything.
 */
export async function migrateComponent(ctx: OperatorContext, c: Component, key: EncryptionKey, store: Store, signal?: AbortSignal): Promise<MigrationRecord> {
  let rec = await readMigrationRecord(ctx, c);
  if (!rec || rec.writeKey !== key.id || rec.mode !== key.mode || rec.completed) {
    rec = {
      writeKey: key.id,
      mode: key.mode,
      resources: {},
      done: [],
      objects: 0,
      completed: false,
      startedAt: ctx.now().toISOString(),
      resourceVersion: '',
    };
    ctx.log(`migration of ${c.name} to key ${key.id} (${key.mode}) starts`);
  } else {
    ctx.log(`migration of ${c.name} to key ${key.id} resumes: ${rec.done.length} resources done, ${rec.objects} objects rewritten`);
  }
  const { migrationPageSize: pageSize, migrationConcurrency: concurrency } = ctx.options;
  for (const r of c.resources) {
    const gr = groupResource(r);
    const prefix = resourcePrefix(r.group, r.resource);
    const st = (rec.resources[gr] ??= { continueKey: prefix, done: false, objects: 0 });
    if (st.done) continue;
    rec.current = gr;
    await saveRecord(ctx, c, rec);
    // Pages are read in key order while earlier ones are still being rewritten. The recorded
    // continue point is the start of the oldest page not yet finished, so a crash redoes at most
    // the pages in flight, and never skips one.
    const inflight: Array<{ start: string; done: Promise<RewriteResult> }> = [];
    let start = st.continueKey;
    let more = true;
    let savedAt = Date.now();
    let pagesSinceSave = 0;
    const began = Date.now();
    let walked = 0;
    // Progress is saved beside the work, not in its way: a save through the API server costs
    // milliseconds the pipeline would otherwise stand still for. One save at a time, each of a
    // snapshot, so the record only moves forward; a failed save stops the migration at the next page.
    let saving: Promise<void> | undefined;
    let saveError: unknown;
    const saveBeside = () => {
      if (saving) return; // the next save point records newer progress anyway
      const snapshot = JSON.parse(JSON.stringify(rec)) as MigrationRecord;
      saving = saveRecord(ctx, c, snapshot)
        .catch((err: unknown) => {
          saveError ??= err;
        })
        .finally(() => {
          saving = undefined;
        });
    };
    try {
      while (more || inflight.length) {
        if (saveError) throw saveError;
        // Stopped: the pages in flight finish below, the record keeps what is done, and a later worker resumes.
        if (signal?.aborted) throw signal.reason;
        while (more && inflight.length < concurrency) {
          const page = await store.rangePage(prefix, start, pageSize);
          const last = page.kvs[page.kvs.length - 1];
          more = page.more && last !== undefined;
          if (!last) break;
          inflight.push({ start, done: store.rewriteStale(gr, page.kvs) });
          start = after(last.key);
        }
        const head = inflight.shift();
        if (!head) break;
        const x = await head.done;
        const n = x.rewritten + x.fresh + x.raced;
        st.objects += n;
        rec.objects += n;
        st.continueKey = inflight[0]?.start ?? start;
        walked += n;
        // An admin may cap the rate to spare a busy etcd (spec.unsupportedConfigOverrides.encryption.migrationObjectsPerSecond).
        const rate = ctx.options.migrationObjectsPerSecond;
        if (rate) await sleep((walked / rate) * 1000 - (Date.now() - began));
        pagesSinceSave++;
        if ((pagesSinceSave >= concurrency || Date.now() - savedAt >= SAVE_EVERY_MS) && (more || inflight.length)) {
          savedAt = Date.now();
          pagesSinceSave = 0;
          rec.current = gr;
          saveBeside();
        }
      }
    } finally {
      // After a failure, pages still in flight may fail too: their errors are that same failure.
      for (const p of inflight) p.done.catch(() => {});
      // Never leave a save running behind a failure: a retry must not find it landing later.
      await saving;
    }
    if (saveError) throw saveError;
    st.done = true;
    st.continueKey = prefixRangeEnd(Buffer.from(prefix)).toString('latin1');
    rec.done.push(gr);
    rec.current = undefined;
    await saveRecord(ctx, c, rec);
    ctx.log(`migration of ${c.name}: ${gr} done (${st.objects} objects)`);
  }
  rec.completed = true;
  await saveRecord(ctx, c, rec);
  return rec;
}
