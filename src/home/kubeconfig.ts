import { join } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../util/fsx.js';
import { ADMIN_USER, DEVELOPER_USER, tokenOf, type Credentials } from './credentials.js';

export const kubeconfigPath = (home: string) => join(home, 'kubeconfig');

/**
 * `<home>/kubeconfig` for kubectl and client libraries: the load balancer's URL, the cluster CA,
 * and two users: admin (current context) and developer, a non-admin for trying permissions.
 */
export function writeKubeconfig(home: string, serverURL: string, creds: Credentials): string {
  const path = kubeconfigPath(home);
  const cluster = 'etcd-ops';
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: serverURL, 'certificate-authority-data': Buffer.from(creds.ca.certPem).toString('base64') } }],
    users: [
      { name: 'admin', user: { token: tokenOf(creds, ADMIN_USER) } },
      { name: 'developer', user: { token: tokenOf(creds, DEVELOPER_USER) } },
    ],
    contexts: [
      { name: 'admin', context: { cluster, user: 'admin' } },
      { name: 'developer', context: { cluster, user: 'developer', namespace: 'default' } },
    ],
    'current-context': 'admin',
  };
  writeFileAtomic(path, stringify(doc), 0o600);
  return path;
}
