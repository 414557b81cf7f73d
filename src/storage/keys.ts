/**
 * Where each resource lives in etcd, exactly as kube-apiserver and openshift-apiserver lay it out:
 *   core namespaced      /kubernetes.io/<resource>/<ns>/<name>
 *   core cluster-scoped  /kubernetes.io/<resource>/<name>
 *   other groups         /kubernetes.io/<group>/<resource>/[<ns>/]<name>
 *   OpenShift overrides  /openshift.io/routes/..., /openshift.io/oauth/{access,authorize}tokens/...
 * Pure: no I/O. (src/encryption has the reverse direction, key -> group-resource, for its CLI.)
 */

/** Resources whose etcd prefix is not the default one (openshift-apiserver / oauth-apiserver storage). */
const OVERRIDES: Record<string, string> = {
  'routes.route.openshift.io': '/openshift.io/routes/',
  'oauthaccesstokens.oauth.openshift.io': '/openshift.io/oauth/accesstokens/',
  'oauthauthorizetokens.oauth.openshift.io': '/openshift.io/oauth/authorizetokens/',
  // kube-apiserver still stores Nodes under their old name.
  nodes: '/kubernetes.io/minions/',
  // Built-in groups other than core are stored without their group, as kube-apiserver stores them.
  'leases.coordination.k8s.io': '/kubernetes.io/leases/',
  'roles.rbac.authorization.k8s.io': '/kubernetes.io/roles/',
  'rolebindings.rbac.authorization.k8s.io': '/kubernetes.io/rolebindings/',
  'clusterroles.rbac.authorization.k8s.io': '/kubernetes.io/clusterroles/',
  'clusterrolebindings.rbac.authorization.k8s.io': '/kubernetes.io/clusterrolebindings/',
  'volumeattachments.storage.k8s.io': '/kubernetes.io/volumeattachments/',
};

/** "secrets", "routes.route.openshift.io": the group-resource string transformers are keyed by. */
export function groupResourceString(group: string, resource: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

/** The key prefix (with a trailing slash) under which every object of the resource is stored. */
export function resourcePrefix(group: string, resource: string): string {
  const gr = groupResourceString(group, resource);
  const o = OVERRIDES[gr];
  if (o) return o;
  return group === '' ? `/kubernetes.io/${resource}/` : `/kubernetes.io/${group}/${resource}/`;
}

/** The key prefix for a namespace's objects of a namespaced resource. */
export function namespacePrefix(prefix: string, namespace: string): string {
  return `${prefix}${namespace}/`;
}

/** The full key of one object. `namespace` is undefined for cluster-scoped resources. */
export function objectKey(prefix: string, namespace: string | undefined, name: string): string {
  return namespace === undefined ? `${prefix}${name}` : `${prefix}${namespace}/${name}`;
}

/** The end of a prefix range: the prefix with its last byte incremented (etcd's GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every byte 0xff: to the end of the keyspace
}
