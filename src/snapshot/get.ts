import type { LatestQuery } from './kv.js';
import type { KeyValue } from './protobuf.js';
import type { Snapshot } from './index.js';

/**
 * Turns a stored value into the one to print (e.g. decrypts a Kubernetes secret). Gets the
 * whole KeyValue: aesgcm binds the etcd key into the ciphertext. Errors propagate.
 */
export type ValueTransform = (kv: KeyValue) => Uint8Array | Promise<Uint8Array>;

export interface ValuesResult {
  /** The store's head revision: etcd's response header revision, whatever --rev asked. */
  headRevision: bigint;
  kvs: AsyncGenerator<KeyValue>;
}

/**
 * The live key-values a restored member would return for `q`, in key order, each passed
 * through `transform` when given. Reading is lazy: values are fetched as they are consumed.
 */
export function readValues(snap: Snapshot, q: LatestQuery, transform?: ValueTransform): ValuesResult {
  const res = snap.latest(q);
  async function* kvs(): AsyncGenerator<KeyValue> {
    for (const kv of res.values()) {
      if (!transform) yield kv;
      else yield { ...kv, value: Buffer.from(await transform(kv)) };
    }
  }
  return { headRevision: res.headRevision, kvs: kvs() };
}
