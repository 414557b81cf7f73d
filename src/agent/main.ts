import { mkdirSync, unlinkSync } from 'node:fs';
import { hostPaths } from '../home/layout.js';
import { isSameProcessAlive } from '../util/proc.js';
import { ApiSync } from './apisync.js';
import { Kubelet } from './kubelet.js';
import { killOrphans } from './orphans.js';
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
  const api = new ApiSync(home, host, () => kubelet.snapshot(), log);
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
