import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCA, type CertKeyPair } from '../pki/index.js';
import { pkiDir } from '../home/layout.js';
import { writeFileAtomic } from '../util/fsx.js';
import { DEVELOPER_USER as POLICY_DEVELOPER, NODES_GROUP, OPERATOR_SA } from '../apiserver/rbac/policy.js';
import { serviceAccountUser } from '../apiserver/rbac/rules.js';

/**
 * The home's credentials: the cluster CA and the bearer tokens of its users, kept under
 * `<home>/pki` with keys and tokens 0600. They are made once by `up` and never printed.
 */
export interface Credentials {
  ca: CertKeyPair;
  tokens: TokenUser[];
}

export interface TokenUser {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

export const ADMIN_USER = 'system:admin';
export const DEVELOPER_USER = POLICY_DEVELOPER;
export const OPERATOR_USER = serviceAccountUser(OPERATOR_SA.namespace, OPERATOR_SA.name);
export const nodeUser = (host: string) => `system:node:${host}`;

/** A service account's groups, as kube gives them. */
export function operatorGroups(): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_SA.namespace}`];
}

const newToken = () => randomBytes(24).toString('base64url');

export async function createCredentials(home: string, hosts: string[]): Promise<Credentials> {
  const dir = pkiDir(home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = await createCA({ commonName: 'etcd-ops-local-ca' });
  const tokens: TokenUser[] = [
    { token: newToken(), user: ADMIN_USER, uid: 'admin', groups: ['system:masters'] },
    { token: newToken(), user: DEVELOPER_USER, uid: 'developer', groups: ['system:authenticated'] },
    // The operator and the agents get what the bootstrap RBAC policy grants them, and no more.
    { token: newToken(), user: OPERATOR_USER, uid: 'operator', groups: operatorGroups() },
    ...hosts.map((h) => ({ token: newToken(), user: nodeUser(h), uid: `node-${h}`, groups: [NODES_GROUP] })),
  ];
  writeFileAtomic(join(dir, 'ca.key'), ca.keyPem, 0o600);
  writeFileAtomic(join(dir, 'ca.crt'), ca.certPem, 0o644);
  writeFileAtomic(join(dir, 'users.json'), JSON.stringify({ tokens }, null, 2) + '\n', 0o600);
  return { ca, tokens };
}

export function loadCredentials(home: string): Credentials {
  const dir = pkiDir(home);
  const ca = { certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
  return { ca, tokens: (JSON.parse(readFileSync(join(dir, 'users.json'), 'utf8')) as { tokens: TokenUser[] }).tokens };
}

export function hasCredentials(home: string): boolean {
  return existsSync(join(pkiDir(home), 'users.json'));
}

/** kube-apiserver's --token-auth-file format: token,user,uid,"group1,group2". */
export function tokensCsv(tokens: TokenUser[]): string {
  return tokens.map((t) => `${t.token},${t.user},${t.uid},"${t.groups.join(',')}"`).join('\n') + '\n';
}

export function tokenOf(creds: Credentials, user: string): string {
  const t = creds.tokens.find((x) => x.user === user);
  if (!t) throw new Error(`no token for ${user} in the home's credentials`);
  return t.token;
}
