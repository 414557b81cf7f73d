import type { ResourceRef } from '../../kube/client.js';

/** A library-go encryption component: an API server's resources, and where its conditions go. */
export interface Component {
  name: string;
  /** Group-resources as EncryptionConfiguration names them. */
  resources: Array<{ group: string; resource: string }>;
  /** The operator object that carries its Encrypted condition. */
  operator: ResourceRef;
}

const op = (resource: string): ResourceRef => ({ group: 'operator.openshift.io', version: 'v1', resource });

export const COMPONENTS: Component[] = [
  {
    name: 'openshift-kube-apiserver',
    resources: [
      { group: '', resource: 'secrets' },
      { group: '', resource: 'configmaps' },
    ],
    operator: op('kubeapiservers'),
  },
  {
    name: 'openshift-apiserver',
    resources: [{ group: 'route.openshift.io', resource: 'routes' }],
    operator: op('openshiftapiservers'),
  },
  {
    name: 'openshift-oauth-apiserver',
    resources: [
      { group: 'oauth.openshift.io', resource: 'oauthaccesstokens' },
      { group: 'oauth.openshift.io', resource: 'oauthauthorizetokens' },
    ],
    operator: op('authentications'),
  },
];

/** "secrets", "routes.route.openshift.io": how the EncryptionConfiguration and messages name them. */
export const groupResource = (r: { group: string; resource: string }) => (r.group ? `${r.resource}.${r.group}` : r.resource);

/** "core/secrets", as library-go prints migration lists. */
export const migrationName = (r: { group: string; resource: string }) => `${r.group || 'core'}/${r.resource}`;

export function componentByName(name: string): Component {
  const c = COMPONENTS.find((x) => x.name === name);
  if (!c) throw new Error(`unknown encryption component ${name}`);
  return c;
}
