import { REVISION_SAMPLES_KEY } from './compact.js';

/** The etcd election the operator replicas campaign in: etcd3 keeps it under `election/<name>/<lease>`. */
export const OPERATOR_ELECTION = 'etcd-ops-operator';

/** kube-apiserver's compaction marker, which our API servers keep too (storage/compactor.ts). */
export const COMPACT_REV_KEY = 'compact_rev_key';

/**
 * Keys the control plane keeps in etcd beside the API's objects, with what they are: a backup
 * inspection names them instead of calling them foreign keys with undecodable values.
 */
const OWN_KEYS: ReadonlyArray<{ matches: (key: string) => boolean; what: string }> = [
  { matches: (k) => k.startsWith(`election/${OPERATOR_ELECTION}/`), what: 'etcd-ops: operator leader election (one key per replica, on its lease)' },
  { matches: (k) => k === REVISION_SAMPLES_KEY, what: 'etcd-ops: revision samples (compact --keep)' },
  { matches: (k) => k.startsWith('/etcd-ops.io/'), what: 'etcd-ops: own records' },
  { matches: (k) => k === COMPACT_REV_KEY, what: "API server: compaction marker (kube-apiserver's compact_rev_key)" },
];

/** What one of the control plane's own keys is, or undefined for any other key. */
export function ownKey(key: string): string | undefined {
  return OWN_KEYS.find((o) => o.matches(key))?.what;
}
