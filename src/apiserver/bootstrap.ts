/**
 * Objects every control plane starts with: the namespaces and the cluster singletons. Each is a
 * create-if-absent etcd transaction, so several API servers starting together do it once.
 */
import type { KubeObject, Store } from '../storage/store.js';
import { StorageError } from '../storage/errors.js';
import { objectKey } from '../storage/keys.js';
import { RESOURCES, apiVersionOf, type ResourceDef } from './resources.js';
import { canonical } from './decode.js';
import { prepareCreate } from './strategy.js';

export const BOOTSTRAP_NAMESPACES = [
  'default',
  'kube-system',
  'openshift-config',
  'openshift-config-managed',
  'openshift-etcd',
  'openshift-kube-apiserver',
  'openshift-apiserver',
  'openshift-oauth-apiserver',
  'openshift-kube-apiserver-operator',
  'openshift-etcd-operator',
];

const SINGLETONS: { group: string; resource: string; spec: Record<string, unknown> }[] = [
  { group: 'config.openshift.io', resource: 'apiservers', spec: { audit: { profile: 'Default' } } },
  { group: 'config.openshift.io', resource: 'proxies', spec: {} },
  { group: 'operator.openshift.io', resource: 'kubeapiservers', spec: { managementState: 'Managed' } },
  { group: 'operator.openshift.io', resource: 'openshiftapiservers', spec: { managementState: 'Managed' } },
  { group: 'operator.openshift.io', resource: 'authentications', spec: { managementState: 'Managed' } },
  { group: 'operator.openshift.io', resource: 'etcds', spec: { managementState: 'Managed' } },
];

function find(group: string, resource: string): ResourceDef {
  return RESOURCES.find((r) => r.group === group && r.resource === resource)!;
}

async function ensure(store: Store, def: ResourceDef, name: string, body: Record<string, unknown>): Promise<boolean> {
  const o = { apiVersion: apiVersionOf(def), kind: def.kind, metadata: { name }, ...body } as KubeObject;
  const status = o.status;
  prepareCreate(def, o, undefined);
  if (status !== undefined) o.status = status;
  const key = objectKey(def.prefix, undefined, name);
  // Read first: a restart then writes nothing, which also works while etcd refuses writes (NOSPACE).
  if (await store.getRaw(key)) return false;
  try {
    await store.create(key, def.groupResource, canonical(def, o));
    return true;
  } catch (err) {
    if (err instanceof StorageError && err.code === 'AlreadyExists') return false;
    throw err;
  }
}

/** Returns the names it created (empty when everything existed). */
export async function bootstrap(store: Store): Promise<string[]> {
  const created: string[] = [];
  const ns = find('', 'namespaces');
  for (const name of BOOTSTRAP_NAMESPACES) if (await ensure(store, ns, name, {})) created.push(`namespaces/${name}`);
  for (const s of SINGLETONS) {
    const def = find(s.group, s.resource);
    const body: Record<string, unknown> = { spec: s.spec };
    if (s.group === 'operator.openshift.io') body.status = { conditions: [], latestAvailableRevision: 0, nodeStatuses: [] };
    if (await ensure(store, def, 'cluster', body)) created.push(`${def.groupResource}/cluster`);
  }
  return created;
}
