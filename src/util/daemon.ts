import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './fsx.js';
import { isAlive, isSameProcessAlive, signal, startTicks, type ProcessRef } from './proc.js';
import { sleep, waitFor } from './time.js';

/**
 * Long-running etcd-ops processes (host agents, the load balancer) run detached: their own
 * session and process group, a pid file that records (pid, start time), a log file.
 */
export interface DaemonSpec {
  name: string;
  command: string[];
  pidFile: string;
  logFile: string;
  cwd: string;
}

export function readPidFile(path: string): ProcessRef | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return typeof v.pid === 'number' ? { pid: v.pid, startTicks: v.startTicks } : undefined;
  } catch {
    return undefined;
  }
}

/** Called by the daemon itself once it runs. */
export function writeOwnPidFile(path: string): void {
  writeFileAtomic(path, JSON.stringify({ pid: process.pid, startTicks: startTicks(process.pid) }) + '\n');
}

export function runningDaemon(pidFile: string): ProcessRef | undefined {
  const ref = readPidFile(pidFile);
  return ref && isSameProcessAlive(ref) ? ref : undefined;
}

export async function startDaemon(d: DaemonSpec): Promise<ProcessRef> {
  const already = runningDaemon(d.pidFile);
  if (already) return already;
  mkdirSync(dirname(d.logFile), { recursive: true });
  const out = openSync(d.logFile, 'a');
  const [file, ...args] = d.command;
  const child = spawn(file, args, { detached: true, stdio: ['ignore', out, out], cwd: d.cwd, env: process.env });
  closeSync(out);
  child.unref();
  const pid = child.pid!;
  return waitFor(`${d.name} to start (see ${d.logFile})`, 15_000, () => {
    if (!isAlive(pid)) throw new Error(`${d.name} exited at start; see ${d.logFile}`);
    const ref = readPidFile(d.pidFile);
    return ref?.pid === pid ? ref : undefined;
  }, 50);
}

/** SIGTERM, then SIGKILL to the whole process group if it has not exited in time. */
export async function stopDaemon(pidFile: string, timeoutMs = 15_000): Promise<boolean> {
  const ref = runningDaemon(pidFile);
  if (!ref) return false;
  signal(ref.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isSameProcessAlive(ref)) return true;
    await sleep(100);
  }
  signal(-ref.pid, 'SIGKILL');
  // Gone for sure before we return: a caller that starts a successor must not find this one.
  for (let i = 0; i < 50 && isSameProcessAlive(ref); i++) await sleep(100);
  return true;
}
