import { describeEtcdError, withAnyEndpoint, type Connection } from './connection.js';
import { big } from './ids.js';

/**
 * Where etcd-ops keeps (time, revision) samples, so that "keep the last 5 minutes" can be turned
 * into a revision: etcd itself records no times. The operator appends a sample each minute
 * (operator/revision-sampler.ts); the list is capped at three hours.
 */
export const REVISION_SAMPLES_KEY = '/etcd-ops.io/revision-samples';
export const MAX_SAMPLES = 180;

export interface RevisionSample {
  time: string;
  revision: string;
}

export async function currentRevision(conn: Connection): Promise<bigint> {
  return withAnyEndpoint(conn, async (c) => big((await c.kv.range({ key: Buffer.from(REVISION_SAMPLES_KEY), count_only: true })).header.revision));
}

export async function readRevisionSamples(conn: Connection): Promise<RevisionSample[]> {
  return withAnyEndpoint(conn, async (c) => {
    const v = await c.get(REVISION_SAMPLES_KEY).string();
    if (!v) return [];
    try {
      const parsed = JSON.parse(v) as { samples?: RevisionSample[] };
      return Array.isArray(parsed.samples) ? parsed.samples : [];
    } catch {
      return [];
    }
  });
}

/** The newest sampled revision at least `keepMs` old: compacting to it keeps that much history. */
export function revisionToKeep(samples: RevisionSample[], keepMs: number, now = Date.now()): bigint | undefined {
  const old = samples.filter((s) => Date.parse(s.time) <= now - keepMs).sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
  return old[0] ? BigInt(old[0].revision) : undefined;
}

export function appendSample(samples: RevisionSample[], revision: bigint, now = new Date()): RevisionSample[] {
  return [...samples, { time: now.toISOString(), revision: revision.toString() }].slice(-MAX_SAMPLES);
}

/** Compacts history up to `revision`; physical, so the space is free for a defrag once it returns. */
export async function compactTo(conn: Connection, revision: bigint, physical = true): Promise<void> {
  try {
    await withAnyEndpoint(conn, (c) => c.kv.compact({ revision: revision.toString(), physical }));
  } catch (err) {
    const msg = describeEtcdError(err, conn);
    if (/required revision has been compacted/.test(msg)) throw new Error(`revision ${revision} is already compacted: nothing older is left to compact`);
    if (/future revision/.test(msg)) throw new Error(`revision ${revision} is in the future: the current revision is lower`);
    throw new Error(`compaction failed: ${msg}`);
  }
}
