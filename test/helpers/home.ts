import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterFile } from '../../src/home/cluster-file.js';
import { killByMarker, trackMarker, trackTempDir } from './cleanup.js';
import { runCli, type CliResult } from './cli.js';

export interface TestHome {
  home: string;
  cluster: ClusterFile;
  cli(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** etcdctl flags that reach every member. */
  endpoints: string;
  destroy(): Promise<void>;
}

/**
 * A local control plane in a fresh temp home, brought up by the real `etcd-ops up`.
 * destroy() kills everything that mentions the home, so no test leaves processes or ports behind,
 * even when it fails half-way.
 */
export async function upHome(args: string[] = []): Promise<TestHome & { up: CliResult }> {
  const home = mkdtempSync(join(tmpdir(), 'etcd-ops-home-'));
  trackMarker(home);
  trackTempDir(home);
  const cli = (a: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) => runCli([...a, '--home', home], opts);
  const up = await cli(['up', ...args], { timeoutMs: 90_000 });
  if (up.code !== 0) {
    killByMarker(home);
    throw new Error(`etcd-ops up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  const cluster = JSON.parse(readFileSync(join(home, 'cluster.json'), 'utf8')) as ClusterFile;
  return {
    home,
    cluster,
    cli,
    up,
    endpoints: cluster.hosts.map((h) => h.clientURL).join(','),
    // Losing every host at once is quicker than a graceful down, and leaves nothing behind either
    // (controlplane.test.ts tests down itself).
    destroy: async () => {
      killByMarker(home);
    },
  };
}
