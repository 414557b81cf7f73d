/**
 * Which group-resource an etcd key belongs to, as kube-apiserver and the OpenShift API servers lay
 * out their keys. Pure, so the API server, backup inspection and the CLI share one answer.
 */

/** Storage roots: kube-apiserver's default, OpenShift's kube-apiserver, the OpenShift API servers. */
const KUBE_ROOTS = ['/registry/', '/kubernetes.io/'];
const OPENSHIFT_ROOT = '/openshift.io/';

/** OpenShift API servers store under their own paths; the group is implied. */
const OPENSHIFT_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['routes/', 'routes.route.openshift.io'],
  ['oauth/accesstokens/', 'oauthaccesstokens.oauth.openshift.io'],
  ['oauth/authorizetokens/', 'oauthauthorizetokens.oauth.openshift.io'],
];

/**
 * Built-in resources are stored under their resource name alone (no group), and a few under a
 * name of their own: the group-resource an encryption configuration names them by.
 */
const BUILT_IN: Readonly<Record<string, string>> = {
  minions: 'nodes',
  'services/specs': 'services',
  'services/endpoints': 'endpoints',
  controllers: 'replicationcontrollers',
  ingress: 'ingresses.networking.k8s.io',
  ingressclasses: 'ingressclasses.networking.k8s.io',
  networkpolicies: 'networkpolicies.networking.k8s.io',
  deployments: 'deployments.apps',
  replicasets: 'replicasets.apps',
  statefulsets: 'statefulsets.apps',
  daemonsets: 'daemonsets.apps',
  controllerrevisions: 'controllerrevisions.apps',
  jobs: 'jobs.batch',
  cronjobs: 'cronjobs.batch',
  horizontalpodautoscalers: 'horizontalpodautoscalers.autoscaling',
  poddisruptionbudgets: 'poddisruptionbudgets.policy',
  roles: 'roles.rbac.authorization.k8s.io',
  rolebindings: 'rolebindings.rbac.authorization.k8s.io',
  clusterroles: 'clusterroles.rbac.authorization.k8s.io',
  clusterrolebindings: 'clusterrolebindings.rbac.authorization.k8s.io',
  storageclasses: 'storageclasses.storage.k8s.io',
  volumeattachments: 'volumeattachments.storage.k8s.io',
  csinodes: 'csinodes.storage.k8s.io',
  csidrivers: 'csidrivers.storage.k8s.io',
  leases: 'leases.coordination.k8s.io',
  endpointslices: 'endpointslices.discovery.k8s.io',
  certificatesigningrequests: 'certificatesigningrequests.certificates.k8s.io',
  priorityclasses: 'priorityclasses.scheduling.k8s.io',
  runtimeclasses: 'runtimeclasses.node.k8s.io',
  mutatingwebhookconfigurations: 'mutatingwebhookconfigurations.admissionregistration.k8s.io',
  validatingwebhookconfigurations: 'validatingwebhookconfigurations.admissionregistration.k8s.io',
  flowschemas: 'flowschemas.flowcontrol.apiserver.k8s.io',
  prioritylevelconfigurations: 'prioritylevelconfigurations.flowcontrol.apiserver.k8s.io',
};

/**
 * "/kubernetes.io/secrets/ns/name" → "secrets"; "/openshift.io/routes/ns/name" →
 * "routes.route.openshift.io"; "/kubernetes.io/<group>/<resource>/..." → "<resource>.<group>".
 * Undefined when the key is not laid out like any of these.
 */
export function resourceForEtcdKey(key: string): string | undefined {
  if (key.startsWith(OPENSHIFT_ROOT)) {
    const rest = key.slice(OPENSHIFT_ROOT.length);
    for (const [path, gr] of OPENSHIFT_PATHS) if (rest.startsWith(path)) return gr;
    return undefined;
  }
  const root = KUBE_ROOTS.find((r) => key.startsWith(r));
  if (!root) return undefined;
  const segments = key.slice(root.length).split('/');
  const first = segments[0] ?? '';
  if (first === '' || segments.length < 2) return undefined;
  if (first.includes('.')) {
    // Custom resources and aggregated groups: /<root>/<group>/<resource>/...
    const resource = segments[1] ?? '';
    return resource === '' || segments.length < 3 ? undefined : `${resource}.${first}`;
  }
  const two = `${first}/${segments[1]}`;
  return BUILT_IN[two] ?? (first === 'services' ? undefined : BUILT_IN[first] ?? first);
}
