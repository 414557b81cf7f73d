import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdUsesTls, type ClusterFile } from '../../src/home/cluster-file.js';
import { etcdPki } from '../../src/home/layout.js';
import { homeEtcdTls } from '../../src/cli/connection.js';
import type { Connection } from '../../src/etcd/endpoints.js';
import { killByMarker, removeTrackedNetwork, trackMarker, trackNetwork, trackTempDir } from './cleanup.js';
import { runCli, type CliResult } from './cli.js';

export interface TestHome {
  home: string;
  cluster: ClusterFile;
  cli(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** The members' client URLs, comma-separated. */
  endpoints: string;
  /** A connection to every member with the home's etcd-client certificate, as the CLI makes it. */
  conn: Connection;
  /** etcdctl flags that reach every member with the home's client certificate. */
  etcdctlArgs: string[];
  destroy(): Promise<void>;
}

/** The flags that let the plain etcdctl in: endpoints, and the home's CA and client certificate. */
export function etcdctlFlags(home: string, cluster: ClusterFile, endpoints = cluster.hosts.map((h) => h.clientURL)): string[] {
  const p = etcdPki(home);
  return [`--endpoints=${endpoints.join(',')}`, ...(etcdUsesTls(cluster) ? [`--cacert=${p.caCert}`, `--cert=${p.clientCert}`, `--key=${p.clientKey}`] : [])];
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
    try {
      const id = (JSON.parse(readFileSync(join(home, 'cluster.json'), 'utf8')) as ClusterFile).network?.id;
      if (id) removeTrackedNetwork(id);
    } catch {}
    throw new Error(`etcd-ops up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }
  const cluster = JSON.parse(readFileSync(join(home, 'cluster.json'), 'utf8')) as ClusterFile;
  const netId = cluster.network?.mode === 'hosts' ? cluster.network.id : undefined;
  if (netId) trackNetwork(netId);
  return {
    home,
    cluster,
    cli,
    up,
    endpoints: cluster.hosts.map((h) => h.clientURL).join(','),
    conn: { endpoints: cluster.hosts.map((h) => h.clientURL), tls: homeEtcdTls(home, cluster), commandTimeoutMs: 10_000, dialTimeoutMs: 3000 },
    etcdctlArgs: etcdctlFlags(home, cluster),
    // Losing every host at once is quicker than a graceful down, and leaves nothing behind either
    // (controlplane.test.ts tests down itself): the processes, then the hosts' network.
    destroy: async () => {
      killByMarker(home);
      if (netId) removeTrackedNetwork(netId);
    },
  };
}
