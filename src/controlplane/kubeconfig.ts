import { stringify } from 'yaml';
import { hostKubeconfigPath, kubeconfigPath } from '../home/layout.js';
import { writeFileAtomic } from '../util/fsx.js';
import { ADMIN_USER, DEVELOPER_USER, tokenOf, type Credentials } from './credentials.js';
import { DEVELOPER_NAMESPACE } from '../apiserver/rbac/policy.js';

function kubeconfig(serverURL: string, creds: Credentials, users: Array<{ name: string; user: string; namespace?: string }>): string {
  const cluster = 'etcd-ops';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: serverURL, 'certificate-authority-data': Buffer.from(creds.ca.certPem).toString('base64') } }],
    users: users.map((u) => ({ name: u.name, user: { token: tokenOf(creds, u.user) } })),
    contexts: users.map((u) => ({ name: u.name, context: { cluster, user: u.name, ...(u.namespace ? { namespace: u.namespace } : {}) } })),
    'current-context': users[0].name,
  });
}

/**
 * `<home>/kubeconfig` for kubectl and client libraries: the load balancer's URL, the cluster CA,
 * and two users: admin (current context) and developer, a non-admin who may edit the `developer`
 * namespace only (the context's namespace), for trying permissions.
 */
export function writeKubeconfig(home: string, serverURL: string, creds: Credentials): string {
  const path = kubeconfigPath(home);
  writeFileAtomic(path, kubeconfig(serverURL, creds, [{ name: 'admin', user: ADMIN_USER }, { name: 'developer', user: DEVELOPER_USER, namespace: DEVELOPER_NAMESPACE }]), 0o600);
  return path;
}

export function writeHostKubeconfig(home: string, host: string, serverURL: string, creds: Credentials, user: string, path = hostKubeconfigPath(home, host)): string {
  writeFileAtomic(path, kubeconfig(serverURL, creds, [{ name: user.replace(/[^a-z0-9-]/gi, '-'), user }]), 0o600);
  return path;
}
