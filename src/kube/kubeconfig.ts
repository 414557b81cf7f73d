import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UserError } from '../util/errors.js';

/** What a client needs from a kubeconfig: where, whom to trust, and who we are. */
export interface KubeTarget {
  server: string;
  ca?: string;
  token?: string;
  insecure?: boolean;
  /** The kubeconfig's user name for the context (for messages: who acted). */
  user?: string;
}

/** Reads the parts of a kubeconfig etcd-ops writes (token users, CA data or file). */
export function loadKubeconfig(path: string, context?: string): KubeTarget {
  let doc: any;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`cannot read kubeconfig ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const ctxName = context ?? doc?.['current-context'];
  const ctx = doc?.contexts?.find((c: any) => c.name === ctxName)?.context;
  if (!ctx) throw new UserError(`kubeconfig ${path} has no context "${ctxName}"`);
  const cluster = doc.clusters?.find((c: any) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u: any) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server) throw new UserError(`kubeconfig ${path}: context "${ctxName}" has no cluster server`);
  const ca = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString()
    : cluster['certificate-authority']
      ? readFileSync(cluster['certificate-authority'], 'utf8')
      : undefined;
  return { server: cluster.server, ca, token: user.token, insecure: cluster['insecure-skip-tls-verify'] === true, user: ctx.user };
}
