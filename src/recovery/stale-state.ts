/**
 * What a restore would undo, per resource (the seed's 4.10.7): objects changed since the backup
 * go back to their old state (revert), objects created since are lost, objects deleted since come
 * back (resurrect). Then the state outside etcd that goes stale with them: volumes, credentials,
 * local device paths. Pure: two stores in (the backup's and the cluster's), a report out.
 */
import { classifyStoredValue, resourceForEtcdKey } from '../encryption/index.js';

export interface StoredObject {
  key: string;
  modRevision: bigint;
  /** The value as stored (possibly encrypted). */
  value: Buffer;
}

export interface ObjectRef {
  namespace?: string;
  name: string;
}

export interface ResourceChanges {
  resource: string;
  revert: ObjectRef[];
  lose: ObjectRef[];
  resurrect: ObjectRef[];
}

export type RiskKind = 'storage' | 'credentials' | 'local-volume';

export interface Risk {
  kind: RiskKind;
  resource: string;
  object: ObjectRef;
  change: 'revert' | 'lose' | 'resurrect';
  detail: string;
}

export interface StaleStateReport {
  /** Where the comparison's two sides came from, for the reader. */
  backup: { source: string; revision: bigint };
  current: { source: string; revision: bigint };
  resources: ResourceChanges[];
  risks: Risk[];
  /** Values that could not be read to judge a risk (encrypted with a key not at hand). */
  unreadable: number;
}

/** Reads a stored value to an object, when it is plaintext JSON or decrypts to it. */
export type Decoder = (key: string, value: Buffer) => Record<string, any> | undefined;

export const STORAGE_RESOURCES = ['persistentvolumes', 'persistentvolumeclaims', 'volumeattachments.storage.k8s.io'];

/** Secret types that carry credentials someone outside etcd may hold or have rotated since. */
export const CREDENTIAL_SECRET_TYPES = [
  'kubernetes.io/service-account-token',
  'kubernetes.io/dockerconfigjson',
  'kubernetes.io/dockercfg',
  'kubernetes.io/basic-auth',
  'kubernetes.io/ssh-auth',
  'kubernetes.io/tls',
  'bootstrap.kubernetes.io/token',
];

/** Namespace and name from an object's etcd key (what follows its resource's prefix). */
export function objectRefOf(key: string): ObjectRef | undefined {
  if (!resourceForEtcdKey(key)) return undefined;
  const parts = key.split('/').filter(Boolean);
  // root, [group,] resource: /kubernetes.io/secrets/…, /kubernetes.io/operator.openshift.io/etcds/…,
  // and two-part resources: /kubernetes.io/services/specs/…, /openshift.io/oauth/accesstokens/…
  let depth = 2;
  if (parts[1]!.includes('.')) depth++;
  if (/^\/(registry|kubernetes\.io)\/services\/(specs|endpoints)\//.test(key) || key.startsWith('/openshift.io/oauth/')) depth++;
  const rest = parts.slice(depth);
  if (rest.length === 1) return { name: rest[0]! };
  if (rest.length === 2) return { namespace: rest[0]!, name: rest[1]! };
  return undefined;
}

const label = (r: ObjectRef) => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

export function compareStores(
  backup: { source: string; revision: bigint; objects: Iterable<StoredObject>; decode: Decoder },
  current: { source: string; revision: bigint; objects: Iterable<StoredObject>; decode: Decoder },
): StaleStateReport {
  const before = new Map<string, StoredObject>();
  for (const o of backup.objects) if (resourceForEtcdKey(o.key)) before.set(o.key, o);
  const byResource = new Map<string, ResourceChanges>();
  const row = (resource: string) => {
    let r = byResource.get(resource);
    if (!r) byResource.set(resource, (r = { resource, revert: [], lose: [], resurrect: [] }));
    return r;
  };
  const risks: Risk[] = [];
  let unreadable = 0;
  const decodeCounted = (d: Decoder, o: StoredObject) => {
    const v = d(o.key, o.value);
    if (v === undefined && classifyStoredValue(o.value).kind === 'encrypted') unreadable++;
    return v;
  };
  const judge = (resource: string, ref: ObjectRef, change: Risk['change'], was: StoredObject | undefined, now: StoredObject | undefined) => {
    if (STORAGE_RESOURCES.includes(resource)) {
      const what = change === 'revert' ? 'changed since the backup: the restore brings back its old state' : change === 'lose' ? 'created since the backup: the restore loses it, while the volume it stands for remains' : 'deleted since the backup: the restore brings it back, while the volume may be gone';
      risks.push({ kind: 'storage', resource, object: ref, change, detail: what });
    }
    if (resource === 'persistentvolumes') {
      const old = was && decodeCounted(backup.decode, was);
      const cur = now && decodeCounted(current.decode, now);
      const oldPath = localPath(old);
      const curPath = localPath(cur);
      if (oldPath !== undefined && oldPath !== curPath) {
        risks.push({ kind: 'local-volume', resource, object: ref, change, detail: `the backup has it on ${oldPath}${curPath ? `, the cluster now on ${curPath}` : ''}: the device path predates the disks as they are now` });
      } else if (curPath !== undefined && change === 'lose') {
        risks.push({ kind: 'local-volume', resource, object: ref, change, detail: `a local volume on ${curPath} that the backup does not know: its data stays on the node, unclaimed` });
      }
    }
    if (resource === 'secrets' && change !== 'resurrect') {
      const cur = now && decodeCounted(current.decode, now);
      const type = typeof cur?.type === 'string' ? cur.type : undefined;
      if (cur === undefined || (type && CREDENTIAL_SECRET_TYPES.includes(type))) {
        risks.push({
          kind: 'credentials',
          resource,
          object: ref,
          change,
          detail: type ? `a ${type} Secret ${change === 'revert' ? 'changed' : 'created'} since the backup: whoever holds the new credential is refused after the restore` : 'a Secret changed since the backup whose type could not be read: check whether it holds a credential',
        });
      }
    }
  };

  for (const o of current.objects) {
    const resource = resourceForEtcdKey(o.key);
    if (!resource) continue;
    const ref = objectRefOf(o.key) ?? { name: o.key };
    const old = before.get(o.key);
    before.delete(o.key);
    if (!old) {
      row(resource).lose.push(ref);
      judge(resource, ref, 'lose', undefined, o);
    } else if (old.modRevision !== o.modRevision) {
      row(resource).revert.push(ref);
      judge(resource, ref, 'revert', old, o);
    }
  }
  for (const o of before.values()) {
    const resource = resourceForEtcdKey(o.key)!;
    const ref = objectRefOf(o.key) ?? { name: o.key };
    row(resource).resurrect.push(ref);
    judge(resource, ref, 'resurrect', o, undefined);
  }
  const resources = [...byResource.values()].sort((a, b) => a.resource.localeCompare(b.resource));
  for (const r of resources) for (const list of [r.revert, r.lose, r.resurrect]) list.sort((a, b) => label(a).localeCompare(label(b)));
  return { backup: { source: backup.source, revision: backup.revision }, current: { source: current.source, revision: current.revision }, resources, risks, unreadable };
}

/** A PersistentVolume's path on a node: spec.local.path or spec.hostPath.path. */
function localPath(pv: Record<string, any> | undefined): string | undefined {
  const p = pv?.spec?.local?.path ?? pv?.spec?.hostPath?.path;
  return typeof p === 'string' ? p : undefined;
}

export { label as objectLabel };
