import { writeHostTool } from './host-shell.js';

/**
 * The seed's scripts, where the seed runs them, as thin wrappers around etcd-ops with the home and
 * the host chosen: `sudo -E /usr/local/bin/cluster-backup.sh /home/core/assets/backup`, then
 * `sudo -E /usr/local/bin/cluster-restore.sh /home/core/backup` (= `etcd-ops restore DIR --host H`).
 */
export function writeHostScripts(home: string, host: string): void {
  writeHostTool(home, host, 'cluster-backup.sh', ['backup']);
  writeHostTool(home, host, 'cluster-restore.sh', ['restore']);
}
