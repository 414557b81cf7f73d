import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fsx.js';
import { CLUSTER_FILE } from './layout.js';

const url = z.string().regex(/^https?:\/\/[^/]+$/);

const HostSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  clientURL: url,
  peerURL: url,
  metricsURL: url,
  /** This host's API server instance (HTTPS). */
  apiServerURL: url,
  /** This host's operator replica's Prometheus metrics. */
  operatorMetricsURL: url,
  /** The agent's kubelet API (exec, logs); homes made before it existed have none. */
  kubeletURL: url.optional(),
  /** The etcd-metrics container's endpoint (OpenShift's grpc-proxy on 9979). */
  metricsProxyURL: url.optional(),
  /** The host's own address: in its network namespace, or 127.0.0.1 when hosts share the machine's network. */
  address: z.string().optional(),
});

/**
 * `hosts`: each host in its own network namespace, on a bridge (`id` names everything we made,
 * `slot` is the 10.250.<slot>.0/24 it holds). `shared`: the hosts share the machine's loopback.
 */
const NetworkSchema = z.object({
  mode: z.enum(['hosts', 'shared']),
  id: z.string().optional(),
  slot: z.number().int().optional(),
  gateway: z.string().optional(),
});

/** The cluster file: what `up` decided once (ports, token, members), read by every other command. */
export const ClusterFileSchema = z.object({
  apiVersion: z.literal('etcd-ops.io/v1'),
  kind: z.literal('LocalControlPlane'),
  clusterToken: z.string(),
  createdAt: z.string(),
  quotaBackendBytes: z.number().int().positive(),
  etcd: z.object({ bin: z.string(), version: z.string(), ctl: z.string().optional() }),
  /** Homes made before hosts had their own network have none: they share the machine's. */
  network: NetworkSchema.optional(),
  /** The stable endpoint clients use: the local load balancer in front of the API servers. */
  apiServer: z.object({ url, compactionInterval: z.string() }),
  hosts: z.array(HostSchema).min(1),
});

export type ClusterFile = z.infer<typeof ClusterFileSchema>;
export type HostRecord = z.infer<typeof HostSchema>;
export type NetworkRecord = z.infer<typeof NetworkSchema>;

/** True when the members speak TLS (homes made before mutual TLS spoke plain HTTP). */
export function etcdUsesTls(cluster: ClusterFile): boolean {
  return cluster.hosts.some((h) => h.clientURL.startsWith('https://'));
}

export function clusterFilePath(home: string): string {
  return join(home, CLUSTER_FILE);
}

export function homeIsOurs(home: string): boolean {
  return existsSync(clusterFilePath(home));
}

/** True when the folder exists and holds anything: `up` must not take over someone else's folder. */
export function folderInUse(home: string): boolean {
  if (!existsSync(home)) return false;
  if (!statSync(home).isDirectory()) return true;
  return readdirSync(home).length > 0;
}

export function loadClusterFile(home: string): ClusterFile {
  const path = clusterFilePath(home);
  if (!existsSync(home)) {
    throw new UserError(`no etcd-ops home at ${home}: run \`etcd-ops up --home ${home}\` first, or pass --endpoints`);
  }
  if (!existsSync(path)) {
    throw new UserError(`${home} is not an etcd-ops home (it has no ${CLUSTER_FILE}): pass the right --home, or --endpoints`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path} is not valid JSON (${(err as Error).message}): restore it from the home's data or pass --endpoints`);
  }
  const parsed = ClusterFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${path} is not an etcd-ops cluster file: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function saveClusterFile(home: string, cluster: ClusterFile): void {
  writeFileAtomic(clusterFilePath(home), JSON.stringify(cluster, null, 2) + '\n');
}
