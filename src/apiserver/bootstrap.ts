/**
 * Objects every control plane starts with: the namespaces, the cluster singletons and the RBAC
 * bootstrap policy (rbac/policy.ts). Each is a
 * create-if-absent etcd transaction, so several API servers starting together do it once.
 */
import type { KubeObject, Store } from '../storage/store.js';
import { StorageError } from '../storage/errors.js';
import { objectKey } from '../storage/keys.js';
import { RESOURCES, apiVersionOf, type ResourceDef } from './resources.js';
import { canonical } from './decode.js';
import { prepareCreate } from './strategy.js';
import { BINDINGS, BOOTSTRAP_META, CLUSTER_ROLES, DEVELOPER_NAMESPACE } from './rbac/policy.js';

export const BOOTSTRAP_NAMESPACES = [
  'default',
  'kube-system',
  'kube-node-lease',
  'openshift-config',
  'openshift-config-managed',
  'openshift-etcd',
  'openshift-kube-apiserver',
  'openshift-apiserver',
  'openshift-oauth-apiserver',
  'openshift-kube-apiserver-operator',
  'openshift-etcd-operator',
  DEVELOPER_NAMESPACE,
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

async function ensure(store: Store, def: ResourceDef, name: string, body: Record<string, unknown>, namespace?: string): Promise<boolean> {
  const { metadata: meta, ...rest } = body as { metadata?: Record<string, unknown> };
  const o = { apiVersion: apiVersionOf(def), kind: def.kind, metadata: { name, ...(meta ?? {}) }, ...rest } as KubeObject;
  const status = o.status;
  prepareCreate(def, o, namespace);
  if (status !== undefined) o.status = status;
  const key = objectKey(def.prefix, namespace, name);
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
  // The RBAC policy: independent objects, so their reads and creates go to etcd in batches.
  const roles = find('rbac.authorization.k8s.io', 'clusterroles');
  const crb = find('rbac.authorization.k8s.io', 'clusterrolebindings');
  const rb = find('rbac.authorization.k8s.io', 'rolebindings');
  const made = await Promise.all([
    ...CLUSTER_ROLES.map(async (r) => ((await ensure(store, roles, r.name, { metadata: BOOTSTRAP_META, rules: r.rules })) ? `clusterroles/${r.name}` : '')),
    ...BINDINGS.map(async (b) => {
      const body = { metadata: BOOTSTRAP_META, subjects: b.subjects, roleRef: b.roleRef };
      return (await ensure(store, b.namespace ? rb : crb, b.name, body, b.namespace)) ? `${b.namespace ? `rolebindings/${b.namespace}` : 'clusterrolebindings'}/${b.name}` : '';
    }),
  ]);
  return [...created, ...made.filter(Boolean)];
}
