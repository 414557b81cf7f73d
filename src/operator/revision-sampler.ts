import type { Etcd3 } from 'etcd3';
import { appendSample, REVISION_SAMPLES_KEY, type RevisionSample } from '../etcd/compact.js';

export const SAMPLE_EVERY_MS = 60_000;

/**
 * Records (time, revision) once a minute, so `etcd-ops compact --keep 5m` can turn a duration into
 * a revision: etcd records no times. Compare-and-swap on the key's mod revision, so replicas and
 * restarts never lose or double a sample.
 */
export async function sampleRevision(etcd: Etcd3, now = new Date()): Promise<boolean> {
  const r = await etcd.kv.range({ key: Buffer.from(REVISION_SAMPLES_KEY) });
  const kv = r.kvs[0];
  let samples: RevisionSample[] = [];
  try {
    samples = kv ? (JSON.parse(kv.value.toString()).samples ?? []) : [];
  } catch {
    samples = [];
  }
  const last = samples[samples.length - 1];
  if (last && now.getTime() - Date.parse(last.time) < SAMPLE_EVERY_MS - 5000) return false;
  const value = Buffer.from(JSON.stringify({ samples: appendSample(samples, BigInt(r.header.revision), now) }));
  const key = Buffer.from(REVISION_SAMPLES_KEY);
  const t = await etcd.kv.txn({
    compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: kv?.mod_revision ?? 0 }],
    success: [{ request_put: { key, value } }],
    failure: [],
  });
  return t.succeeded;
}
