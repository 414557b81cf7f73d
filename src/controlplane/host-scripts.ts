import { join } from 'node:path';
import { hostPaths } from '../home/layout.js';
import { writeFileAtomic } from '../util/fsx.js';
import { selfCommand } from '../version.js';

/** The seed's scripts, on each host where the seed runs them: /usr/local/bin/cluster-{backup,restore}.sh. */
export const hostScriptsDir = (home: string, host: string) => join(hostPaths(home, host).root, 'usr/local/bin');

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Thin wrappers around etcd-ops with the home and the host chosen, so the seed's commands run
 * as written (`sudo -E /usr/local/bin/cluster-backup.sh /home/core/assets/backup`, then
 * `sudo -E /usr/local/bin/cluster-restore.sh /home/core/backup`), under the host's root.
 */
export function writeHostScripts(home: string, host: string): string[] {
  const dir = hostScriptsDir(home, host);
  const self = selfCommand.map(quote).join(' ');
  const scripts: Array<[string, string, string]> = [
    ['cluster-backup.sh', 'backup', "cluster-backup.sh: a snapshot of this host's etcd member and its static pod resources"],
    ['cluster-restore.sh', 'restore', 'cluster-restore.sh: restores this host as a single-member control plane from a backup directory'],
  ];
  return scripts.map(([name, command, what]) => {
    const path = join(dir, name);
    const text = `#!/bin/sh\n# ${what}.\n# etcd-ops ${command} for host ${host} of the home ${home}.\nexec ${self} ${command} --home ${quote(home)} --host ${quote(host)} "$@"\n`;
    writeFileAtomic(path, text, 0o755);
    return path;
  });
}
