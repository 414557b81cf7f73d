/**
 * The bootstrap policy every API server creates when absent: Kubernetes' default cluster roles
 * (cluster-admin, admin, edit, view and the system: roles that matter here, with their rules
 * flattened: no aggregation), their default bindings, and this control plane's own identities
 * with the least they need: the operator, the host agents (nodes) and the developer.
 * Pure data.
 */
import type { PolicyRule, RoleRef, Subject } from './rules.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** The operator's identity: a service account, as OpenShift's kube-apiserver-operator runs. */
export const OPERATOR_SA = { namespace: 'openshift-kube-apiserver-operator', name: 'kube-apiserver-operator' };
export const NODES_GROUP = 'system:nodes';
export const DEVELOPER_USER = 'developer';
/** The one namespace the developer may edit. */
export const DEVELOPER_NAMESPACE = 'developer';

/** Namespaces holding what the operator manages: keys, revisions, its state and events. */
export const OPERATOR_NAMESPACES = ['openshift-config-managed', 'openshift-kube-apiserver', 'openshift-kube-apiserver-operator', 'openshift-etcd', 'openshift-etcd-operator'];
/** Namespaces of the static pods the agents run, mirror and install revisions of. */
const NODE_OPERAND_NAMESPACES = ['openshift-kube-apiserver', 'openshift-etcd'];

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];

const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
  ...(resourceNames ? { resourceNames } : {}),
});
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

// bootstrappolicy's system:aggregate-to-view, plus OpenShift's routes.
const VIEW: PolicyRule[] = [
  rule(READ, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
  rule(READ, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
  rule(READ, [''], ['namespaces']),
  rule(READ, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
  rule(READ, ['route.openshift.io'], ['routes', 'routes/status']),
];

// system:aggregate-to-edit: reading Secrets is here, not in view.
const EDIT_ONLY: PolicyRule[] = [
  rule(READ, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
  rule(WRITE, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'endpoints', 'persistentvolumeclaims', 'configmaps', 'secrets']),
  rule(WRITE, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['jobs', 'cronjobs']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
  rule(WRITE, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
  rule(WRITE, ['route.openshift.io'], ['routes']),
];

// system:aggregate-to-admin.
const ADMIN_ONLY: PolicyRule[] = [rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']), rule(READ_WRITE, [RBAC_GROUP], ['roles', 'rolebindings'])];

export interface BootstrapRole {
  name: string;
  rules: PolicyRule[];
}

export interface BootstrapBinding {
  name: string;
  /** Undefined: a ClusterRoleBinding. */
  namespace?: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

const clusterRole = (name: string): RoleRef => ({ apiGroup: RBAC_GROUP, kind: 'ClusterRole', name });
const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC_GROUP, name });
const operatorSubject: Subject = { kind: 'ServiceAccount', name: OPERATOR_SA.name, namespace: OPERATOR_SA.namespace };

export const CLUSTER_ROLES: BootstrapRole[] = [
  { name: 'cluster-admin', rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  { name: 'admin', rules: [...VIEW, ...EDIT_ONLY, ...ADMIN_ONLY] },
  { name: 'edit', rules: [...VIEW, ...EDIT_ONLY] },
  { name: 'view', rules: VIEW },
  { name: 'system:discovery', rules: [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*'])] },
  { name: 'system:basic-user', rules: [rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'])] },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/'])] },
  {
    // The operator's cluster-scoped needs: its operator objects and their status, the cluster config it reads.
    name: 'system:etcd-ops:operator',
    rules: [
      rule([...READ, 'update', 'patch'], ['operator.openshift.io'], ['kubeapiservers', 'kubeapiservers/status', 'etcds', 'etcds/status', 'openshiftapiservers', 'openshiftapiservers/status', 'authentications', 'authentications/status']),
      rule(READ, ['config.openshift.io'], ['apiservers', 'proxies']),
      rule(READ, [''], ['namespaces']),
      // The node lifecycle controller: NotReady when a node's heartbeat stops; the installer and the
      // member controller drop hosts whose Node is gone.
      rule([...READ, 'update', 'patch'], [''], ['nodes', 'nodes/status']),
      rule(READ, ['coordination.k8s.io'], ['leases']),
      // The backup controller: it reads the schedules and reports on them, makes a run
      // (an EtcdBackup) per scheduled time and prunes old runs, and finds a claim's volume.
      rule(READ, ['config.openshift.io'], ['backups']),
      rule(['get', 'update', 'patch'], ['config.openshift.io'], ['backups/status']),
      rule([...READ, 'create', 'delete'], ['operator.openshift.io'], ['etcdbackups']),
      rule(['get', 'update', 'patch'], ['operator.openshift.io'], ['etcdbackups/status']),
      rule(READ, [''], ['persistentvolumes']),
    ],
  },
  {
    // Bound only in OPERATOR_NAMESPACES: encryption keys, encryption-config revisions, state, events.
    name: 'system:etcd-ops:operator-namespaced',
    rules: [rule(READ_WRITE, [''], ['secrets', 'configmaps', 'events']), rule(READ, [''], ['pods', 'persistentvolumeclaims'])],
  },
  {
    // The agents read which revision the operator targets for their node, and register their Node.
    name: 'system:etcd-ops:node',
    rules: [rule(['get'], ['operator.openshift.io'], ['kubeapiservers', 'etcds']), rule(['get', 'create', 'update', 'patch'], [''], ['nodes', 'nodes/status'])],
  },
  // The node heartbeats, bound in kube-node-lease only.
  { name: 'system:etcd-ops:node-lease', rules: [rule(['get', 'create', 'update'], ['coordination.k8s.io'], ['leases'])] },
  {
    // Bound in the operand namespaces: mirror pods, and the revision's config and encryption-config to install.
    name: 'system:etcd-ops:node-namespaced',
    rules: [rule(['get', 'create', 'update', 'delete'], [''], ['pods']), rule(['get'], [''], ['configmaps', 'secrets'])],
  },
  { name: 'system:etcd-ops:node-mirror-pods', rules: [rule(['get', 'create', 'update', 'delete'], [''], ['pods'])] },
];

export const BINDINGS: BootstrapBinding[] = [
  { name: 'cluster-admin', roleRef: clusterRole('cluster-admin'), subjects: [group('system:masters')] },
  { name: 'system:discovery', roleRef: clusterRole('system:discovery'), subjects: [group('system:authenticated')] },
  { name: 'system:basic-user', roleRef: clusterRole('system:basic-user'), subjects: [group('system:authenticated')] },
  { name: 'system:public-info-viewer', roleRef: clusterRole('system:public-info-viewer'), subjects: [group('system:authenticated')] },
  { name: 'system:etcd-ops:operator', roleRef: clusterRole('system:etcd-ops:operator'), subjects: [operatorSubject] },
  { name: 'system:etcd-ops:node', roleRef: clusterRole('system:etcd-ops:node'), subjects: [group(NODES_GROUP)] },
  ...OPERATOR_NAMESPACES.map((namespace) => ({ name: 'system:etcd-ops:operator', namespace, roleRef: clusterRole('system:etcd-ops:operator-namespaced'), subjects: [operatorSubject] })),
  ...NODE_OPERAND_NAMESPACES.map((namespace) => ({ name: 'system:etcd-ops:node', namespace, roleRef: clusterRole('system:etcd-ops:node-namespaced'), subjects: [group(NODES_GROUP)] })),
  { name: 'system:etcd-ops:node-lease', namespace: 'kube-node-lease', roleRef: clusterRole('system:etcd-ops:node-lease'), subjects: [group(NODES_GROUP)] },
  { name: 'system:etcd-ops:node', namespace: OPERATOR_SA.namespace, roleRef: clusterRole('system:etcd-ops:node-mirror-pods'), subjects: [group(NODES_GROUP)] },
  { name: 'developer-edit', namespace: DEVELOPER_NAMESPACE, roleRef: clusterRole('edit'), subjects: [user(DEVELOPER_USER)] },
];

/** Labels and annotations kube puts on its bootstrap policy objects. */
export const BOOTSTRAP_META = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};
