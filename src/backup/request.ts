import { join } from 'node:path';
import type { Connection } from '../etcd/connection.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { hostPaths } from '../home/layout.js';
import { UserError } from '../util/errors.js';
import type { BackupRequest } from './run.js';

/** Where the etcd to back up is: a home's hosts, or --endpoints (then one member, given). */
export interface BackupSource {
  conn: Connection;
  home?: string;
  cluster?: ClusterFile;
}

export interface BackupChoice {
  /** A host of the home (default: the first). */
  host?: string;
  force?: boolean;
  /** With --endpoints: the host's etc/kubernetes folder. */
  resourcesDir?: string;
}

/**
 * What `etcd-ops backup DIR` (and the console's "back up now") asks of `runBackup`/`makeBackup`:
 * a home's host's own member and its etc/kubernetes, or exactly one --endpoints member.
 */
export function backupRequestFor(dir: string, source: BackupSource, o: BackupChoice): Omit<BackupRequest, 'report'> {
  const base = { dir, force: Boolean(o.force) };
  if (source.cluster && source.home) {
    if (o.resourcesDir) throw new UserError('--resources-dir goes with --endpoints; with --home the host\'s own folder is used (pick the host with --host)');
    const host = o.host ? source.cluster.hosts.find((h) => h.name === o.host) : source.cluster.hosts[0];
    if (!host) throw new UserError(`no host "${o.host}" in ${source.home}: hosts are ${source.cluster.hosts.map((h) => h.name).join(', ')}`);
    return {
      ...base,
      host: host.name,
      resourcesRoot: join(hostPaths(source.home, host.name).root, 'etc/kubernetes'),
      endpoint: host.clientURL,
      conn: { ...source.conn, endpoints: [host.clientURL] },
      memberDownHint: `start it (\`etcd-ops host start ${host.name}\`, or put its etcd-pod manifest back) and wait until it is healthy, or back up another host with --host`,
    };
  }
  if (o.host) throw new UserError('--host picks a host of a --home; with --endpoints, name the member in --endpoints and its folder with --resources-dir');
  if (source.conn.endpoints.length !== 1) {
    throw new UserError(`a backup is of one member: give exactly one endpoint in --endpoints (got ${source.conn.endpoints.length}), the member on this host`);
  }
  return {
    ...base,
    resourcesRoot: o.resourcesDir,
    endpoint: source.conn.endpoints[0]!,
    conn: source.conn,
    memberDownHint: 'check that the member is running and that --endpoints names it',
  };
}
