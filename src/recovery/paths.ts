import { join } from 'node:path';
import { hostPaths } from '../home/layout.js';

/**
 * Where a restore keeps things on a host, as on an OpenShift control-plane host:
 * manifests it stopped in /home/core/assets/manifests-stopped, the data dir it moved in
 * /var/lib/etcd-backup, and (ours) the journal and the stale-state report of a restore.
 */
export interface RestorePaths {
  manifestsStopped: string;
  etcdBackup: string;
  /** The member dir the data dir holds: var/lib/etcd/member. */
  member: string;
  journalDir: string;
  journal: string;
  reportText: string;
  reportJson: string;
}

export function restorePaths(home: string, host: string): RestorePaths {
  const p = hostPaths(home, host);
  const journalDir = join(p.root, 'var/lib/etcd-restore');
  return {
    manifestsStopped: join(p.root, 'home/core/assets/manifests-stopped'),
    etcdBackup: join(p.root, 'var/lib/etcd-backup'),
    member: join(p.etcdDataDir, 'member'),
    journalDir,
    journal: join(journalDir, 'journal.json'),
    reportText: join(journalDir, 'stale-state-report.txt'),
    reportJson: join(journalDir, 'stale-state-report.json'),
  };
}
