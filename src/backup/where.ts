import { join } from 'node:path';
import { hostPaths } from '../home/layout.js';

/** Where a host keeps backups when no claim names a volume: /var/lib/etcd-backups on the host. */
export const HOST_BACKUP_DIR = 'var/lib/etcd-backups';

export function hostBackupDir(home: string, host: string): string {
  return join(hostPaths(home, host).root, HOST_BACKUP_DIR);
}

/** A path as the host sees it (a hostPath or local volume), in the home. */
export function onHost(home: string, host: string, path: string): string {
  return join(hostPaths(home, host).root, path.replace(/^\/+/, ''));
}
