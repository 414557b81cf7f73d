import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { hostPaths } from '../home/layout.js';
import { isAlive, isSameProcessAlive, signal, type ProcessRef } from '../util/proc.js';
import { sleep, waitFor } from '../util/time.js';
import { selfCommand } from '../version.js';
import { readPidFile } from './pidfile.js';
import { readAgentStatus } from './status.js';

/** The running agent of a host, if any. */
export function runningAgent(home: string, host: string): ProcessRef | undefined {
  const ref = readPidFile(hostPaths(home, host).kubeletPidFile);
  return ref && isSameProcessAlive(ref) ? ref : undefined;
}

/** Starts a host's agent detached (its own session and process group) and waits until it runs. */
export async function startAgent(home: string, host: string): Promise<ProcessRef> {
  const already = runningAgent(home, host);
  if (already) return already;
  const p = hostPaths(home, host);
  mkdirSync(p.log, { recursive: true });
  const out = openSync(p.kubeletLog, 'a');
  const [node, ...args] = selfCommand;
  const child = spawn(node, [...args, 'agent', '--home', home, '--host', host], {
    detached: true,
    stdio: ['ignore', out, out],
    cwd: p.root,
    env: { ...process.env, ETCD_OPS_DEBUG: process.env.ETCD_OPS_DEBUG ?? '' },
  });
  closeSync(out);
  child.unref();
  const pid = child.pid!;
  return waitFor(`the agent of ${host} to start (see ${p.kubeletLog})`, 15_000, () => {
    if (!isAlive(pid)) throw new Error(`the agent of ${host} exited at start; see ${p.kubeletLog}`);
    const ref = readPidFile(p.kubeletPidFile);
    return ref?.pid === pid ? ref : undefined;
  }, 50);
}

/** Asks the agent to stop its pods and exit; kills the host's process group if it does not. */
export async function stopAgent(home: string, host: string, timeoutMs = 15_000): Promise<boolean> {
  const ref = runningAgent(home, host);
  if (!ref) return false;
  signal(ref.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isSameProcessAlive(ref)) return true;
    await sleep(100);
  }
  killHost(home, host);
  return true;
}

/**
 * Loses a host, as a power cut would: SIGKILL to the agent's process group (the agent and
 * every container), and to any container that left the group.
 */
export function killHost(home: string, host: string): void {
  const p = hostPaths(home, host);
  const ref = runningAgent(home, host);
  if (ref) signal(-ref.pid, 'SIGKILL');
  for (const pod of readAgentStatus(p.podStatusFile)?.pods ?? []) {
    for (const c of pod.containers) {
      if (c.pid && isSameProcessAlive({ pid: c.pid, startTicks: c.startTicks })) signal(c.pid, 'SIGKILL');
    }
  }
}
