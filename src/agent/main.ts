import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { loadClusterFile } from '../home/cluster-file.js';
import { hostPaths, type HostPaths } from '../home/layout.js';
import { isSameProcessAlive } from '../util/proc.js';
import { ApiSync } from './apisync.js';
import { Kubelet } from './kubelet.js';
import { killOrphans } from './orphans.js';
import { startAgentServer, type RunningAgentServer } from './server.js';
import type { NodeIdentity } from './node.js';
import { readPidFile, writeOwnPidFile } from '../util/daemon.js';

/**
 * The host agent's process. Started detached by `up`/`host start`; it is the leader of its
 * process group, and every container it runs stays in that group.
 */
export async function runAgent(home: string, host: string): Promise<void> {
  const paths = hostPaths(home, host);
  mkdirSync(paths.kubeletDir, { recursive: true });
  mkdirSync(paths.manifests, { recursive: true });
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${host} ${line}\n`);

  const existing = readPidFile(paths.kubeletPidFile);
  if (existing && existing.pid !== process.pid && isSameProcessAlive(existing)) {
    log(`another agent (pid ${existing.pid}) already runs this host; exiting`);
    process.exitCode = 1;
    return;
  }
  killOrphans(paths.podStatusFile, log);
  writeOwnPidFile(paths.kubeletPidFile);

  const kubelet = new Kubelet(host, paths, log);
  const identity = nodeIdentity(home, host);
  const server = await startKubeletApi(paths, identity, kubelet, log);
  const api = new ApiSync(home, host, () => kubelet.snapshot(), log, identity);
  let lastApiError = '';
  let syncing = false;
  const apiLoop = setInterval(() => {
    if (syncing) return;
    syncing = true;
    api.sync().finally(() => (syncing = false)).then(
      () => {
        lastApiError = '';
      },
      (err) => {
        // The API is down while its own static pods restart: say so once, not every 2 s.
        const msg = (err as Error).message;
        if (msg !== lastApiError) log(`api sync: ${msg}`);
        lastApiError = msg;
      },
    );
  }, 1000);
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping all pods`);
    clearInterval(apiLoop);
    api.close();
    await server?.close();
    await kubelet.shutdown();
    const mine = readPidFile(paths.kubeletPidFile);
    if (mine?.pid === process.pid) unlinkSync(paths.kubeletPidFile);
    log('agent stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  log(`agent started, pid ${process.pid}, watching ${paths.manifests}`);
  kubelet.start();
}

/** Where this host's kubelet API is, as its Node reports it. */
function nodeIdentity(home: string, host: string): NodeIdentity {
  const record = loadClusterFile(home).hosts.find((h) => h.name === host);
  const url = record?.kubeletURL ? new URL(record.kubeletURL) : undefined;
  return { name: host, address: url?.hostname ?? '127.0.0.1', kubeletPort: url ? Number(url.port) : 0 };
}

/** The kubelet API for exec and logs; a home made before it existed has no certificates for it. */
async function startKubeletApi(paths: HostPaths, id: NodeIdentity, kubelet: Kubelet, log: (l: string) => void): Promise<RunningAgentServer | undefined> {
  const pki = paths.kubeletPki;
  if (!id.kubeletPort || ![pki.cert, pki.key, pki.clientCA].every((f) => existsSync(f))) {
    log('no kubelet API certificates in this home: kubectl exec and logs are not served for this host');
    return undefined;
  }
  const server = await startAgentServer({
    bindAddress: id.address,
    port: id.kubeletPort,
    cert: readFileSync(pki.cert),
    key: readFileSync(pki.key),
    clientCA: readFileSync(pki.clientCA),
    kubelet,
    log,
  });
  log(`kubelet API on https://${id.address}:${server.port}`);
  return server;
}
