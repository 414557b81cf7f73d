/**
 * After a rotation and its migration, every value at rest carries the current write key's prefix
 * (`k8s:enc:aescbc:v1:<key name>:`). Pure: the caller reads the stored values from etcd.
 */

export interface StoredValue {
  /** The etcd key, e.g. /kubernetes.io/secrets/ns/name. */
  key: string;
  value: Uint8Array;
}

/** The keys whose stored value does not start with `writePrefix`, in the order given. */
export function unencryptedKeys(values: Iterable<StoredValue>, writePrefix: string): string[] {
  const prefix = new TextEncoder().encode(writePrefix);
  const out: string[] = [];
  for (const { key, value } of values) {
    let ok = value.length >= prefix.length;
    for (let i = 0; ok && i < prefix.length; i++) ok = value[i] === prefix[i];
    if (!ok) out.push(key);
  }
  return out;
}
