import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadClusterFile } from '../home/cluster-file.js';
import { lbPaths, pkiDir } from '../home/layout.js';
import { writeOwnPidFile } from '../util/daemon.js';
import { Balancer } from './balancer.js';

/** The load balancer's process: one per home, outside the hosts, as an external LB would be. */
export async function runBalancer(home: string): Promise<void> {
  const cluster = loadClusterFile(home);
  const log = (l: string) => process.stdout.write(`${new Date().toISOString()} ${l}\n`);
  const lb = new Balancer({
    port: Number(new URL(cluster.apiServer.url).port),
    // The hosts' agents and operators reach it through the bridge, as OpenShift's api-int.
    addresses: ['127.0.0.1', ...(cluster.network?.mode === 'hosts' && cluster.network.gateway ? [cluster.network.gateway] : [])],
    backends: cluster.hosts.map((h) => ({ name: h.name, url: h.apiServerURL })),
    ca: readFileSync(join(pkiDir(home), 'ca.crt'), 'utf8'),
    log,
  });
  await lb.start();
  writeOwnPidFile(lbPaths(home).pidFile);
  log(`load balancer on ${cluster.apiServer.url} for ${cluster.hosts.map((h) => h.name).join(', ')}`);
  const stop = async () => {
    await lb.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
