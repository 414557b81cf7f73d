/** The served resources: names, scope, kinds, schemas, storage prefixes, table columns. */
import type { Schema } from './schema.js';
import * as T from './types.js';
import { groupResourceString, resourcePrefix } from '../storage/keys.js';
import { tableFor, type TableDef } from './table.js';

export interface ResourceDef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  schema: Schema;
  /** CRD semantics: a /status subresource; main writes ignore status, status writes ignore the rest; generation bumps on spec change. */
  statusSubresource: boolean;
  /** The etcd key prefix, with a trailing slash. */
  prefix: string;
  /** As the transformers know it: "secrets", "routes.route.openshift.io". */
  groupResource: string;
  nameRule: 'subdomain' | 'label' | 'path';
  table: TableDef;
  /** Verbs other than VERBS (the authorization reviews only take create). */
  verbs?: string[];
  /** Answered from the request and never stored (SelfSubjectAccessReview, SelfSubjectRulesReview). */
  review?: boolean;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(d: Omit<ResourceDef, 'prefix' | 'groupResource' | 'listKind' | 'table' | 'shortNames' | 'categories' | 'statusSubresource' | 'nameRule'> & Partial<ResourceDef>): ResourceDef {
  return {
    shortNames: [],
    categories: [],
    statusSubresource: false,
    nameRule: 'subdomain',
    ...d,
    listKind: `${d.kind}List`,
    prefix: resourcePrefix(d.group, d.resource),
    groupResource: groupResourceString(d.group, d.resource),
    table: tableFor(d.resource, d.group),
  };
}

export const RESOURCES: ResourceDef[] = [
  def({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', singular: 'namespace', shortNames: ['ns'], namespaced: false, schema: T.namespaceSchema, nameRule: 'label' }),
  def({ group: '', version: 'v1', resource: 'secrets', kind: 'Secret', singular: 'secret', namespaced: true, schema: T.secretSchema }),
  def({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', singular: 'configmap', shortNames: ['cm'], namespaced: true, schema: T.configMapSchema }),
  def({ group: '', version: 'v1', resource: 'pods', kind: 'Pod', singular: 'pod', shortNames: ['po'], categories: ['all'], namespaced: true, schema: T.podSchema }),
  def({ group: '', version: 'v1', resource: 'nodes', kind: 'Node', singular: 'node', shortNames: ['no'], namespaced: false, schema: T.nodeSchema }),
  def({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', singular: 'lease', namespaced: true, schema: T.leaseSchema }),
  def({ group: '', version: 'v1', resource: 'persistentvolumes', kind: 'PersistentVolume', singular: 'persistentvolume', shortNames: ['pv'], namespaced: false, schema: T.persistentVolumeSchema, statusSubresource: true }),
  def({ group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', singular: 'persistentvolumeclaim', shortNames: ['pvc'], namespaced: true, schema: T.persistentVolumeClaimSchema, statusSubresource: true }),
  def({ group: '', version: 'v1', resource: 'events', kind: 'Event', singular: 'event', shortNames: ['ev'], namespaced: true, schema: T.eventSchema }),
  def({ group: 'storage.k8s.io', version: 'v1', resource: 'volumeattachments', kind: 'VolumeAttachment', singular: 'volumeattachment', namespaced: false, schema: T.volumeAttachmentSchema, statusSubresource: true }),
  def({ group: 'route.openshift.io', version: 'v1', resource: 'routes', kind: 'Route', singular: 'route', namespaced: true, schema: T.routeSchema, statusSubresource: true }),
  def({ group: 'oauth.openshift.io', version: 'v1', resource: 'oauthaccesstokens', kind: 'OAuthAccessToken', singular: 'oauthaccesstoken', namespaced: false, schema: T.oauthAccessTokenSchema, nameRule: 'path' }),
  def({ group: 'oauth.openshift.io', version: 'v1', resource: 'oauthauthorizetokens', kind: 'OAuthAuthorizeToken', singular: 'oauthauthorizetoken', namespaced: false, schema: T.oauthAuthorizeTokenSchema, nameRule: 'path' }),
  def({ group: 'config.openshift.io', version: 'v1', resource: 'apiservers', kind: 'APIServer', singular: 'apiserver', namespaced: false, schema: T.apiServerConfigSchema, statusSubresource: true }),
  def({ group: 'config.openshift.io', version: 'v1', resource: 'proxies', kind: 'Proxy', singular: 'proxy', namespaced: false, schema: T.proxySchema, statusSubresource: true }),
  def({ group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers', kind: 'KubeAPIServer', singular: 'kubeapiserver', namespaced: false, schema: T.kubeAPIServerSchema, statusSubresource: true }),
  def({ group: 'operator.openshift.io', version: 'v1', resource: 'openshiftapiservers', kind: 'OpenShiftAPIServer', singular: 'openshiftapiserver', namespaced: false, schema: T.openShiftAPIServerSchema, statusSubresource: true }),
  def({ group: 'operator.openshift.io', version: 'v1', resource: 'authentications', kind: 'Authentication', singular: 'authentication', namespaced: false, schema: T.authenticationSchema, statusSubresource: true }),
  def({ group: 'operator.openshift.io', version: 'v1', resource: 'etcds', kind: 'Etcd', singular: 'etcd', namespaced: false, schema: T.etcdSchema, statusSubresource: true }),
  // Tech preview in OpenShift: listed after each group's v1 kinds, so discovery prefers v1.
  def({ group: 'config.openshift.io', version: 'v1alpha1', resource: 'backups', kind: 'Backup', singular: 'backup', namespaced: false, schema: T.backupConfigSchema, statusSubresource: true }),
  def({ group: 'operator.openshift.io', version: 'v1alpha1', resource: 'etcdbackups', kind: 'EtcdBackup', singular: 'etcdbackup', namespaced: false, schema: T.etcdBackupSchema, statusSubresource: true }),
  // RBAC names are path segments (ValidateRBACName): "system:discovery" is a valid name.
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', singular: 'role', namespaced: true, schema: T.roleSchema, nameRule: 'path' }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', singular: 'rolebinding', namespaced: true, schema: T.roleBindingSchema, nameRule: 'path' }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', singular: 'clusterrole', namespaced: false, schema: T.clusterRoleSchema, nameRule: 'path' }),
  def({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', singular: 'clusterrolebinding', namespaced: false, schema: T.roleBindingSchema, nameRule: 'path' }),
  def({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', singular: '', namespaced: false, schema: T.selfSubjectAccessReviewSchema, verbs: ['create'], review: true }),
  def({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', singular: '', namespaced: false, schema: T.selfSubjectRulesReviewSchema, verbs: ['create'], review: true }),
];

export function apiVersionOf(d: { group: string; version: string }): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
}

const byPath = new Map(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.resource}`, r]));

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return byPath.get(`${group}/${version}/${resource}`);
}

/** The groups and their versions, in discovery order (core first). */
export function groups(): { group: string; versions: string[] }[] {
  const out = new Map<string, Set<string>>();
  for (const r of RESOURCES) {
    if (!out.has(r.group)) out.set(r.group, new Set());
    out.get(r.group)!.add(r.version);
  }
  return [...out].map(([group, v]) => ({ group, versions: [...v] }));
}

export function resourcesOf(group: string, version: string): ResourceDef[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

/** Kinds known at a group/version, to tell "unknown kind" from "wrong endpoint". */
export function kindsOf(apiVersion: string): Set<string> {
  return new Set(RESOURCES.filter((r) => apiVersionOf(r) === apiVersion).flatMap((r) => [r.kind, r.listKind]));
}
