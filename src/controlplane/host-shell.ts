/**
 * A command on a host, as an admin logged into it would run it: inside the host's network
 * namespace, at the host's root, with the host's usr/local/bin (crictl, cluster-backup.sh,
 * cluster-restore.sh) first on PATH. Stands in for `ssh core@<host>`.
 */
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterFile } from '../home/cluster-file.js';
import { hostPaths } from '../home/layout.js';
import { inNamespace } from '../netns/network.js';
import { writeFileAtomic } from '../util/fsx.js';
import { selfCommand } from '../version.js';
import { hostNetwork } from './network.js';

export function hostBinDir(home: string, host: string): string {
  return join(hostPaths(home, host).root, 'usr/local/bin');
}

/** Writes a wrapper around etcd-ops with the home and host preselected, as the host's own tool. */
export function writeHostTool(home: string, host: string, name: string, args: string[]): void {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const path = join(hostBinDir(home, host), name);
  writeFileAtomic(path, `#!/bin/sh\n# ${name} on ${host}: etcd-ops with this host preselected.\nexec ${[...selfCommand, ...args].map(quote).join(' ')} --home ${quote(home)} --host ${quote(host)} "$@"\n`, 0o755);
  chmodSync(path, 0o755);
}

export function runOnHost(home: string, cluster: ClusterFile, host: string, command: string[]): Promise<number> {
  const netns = hostNetwork(cluster, host)?.netns;
  const argv = netns ? inNamespace(netns, command) : command;
  const env = { ...process.env, PATH: `${hostBinDir(home, host)}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOSTNAME: host, PS1: `[root@${host} /]# ` };
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: hostPaths(home, host).root, env, stdio: 'inherit' });
    child.once('error', (err) => {
      process.stderr.write(`etcd-ops: cannot run ${command[0]} on ${host}: ${err.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}
