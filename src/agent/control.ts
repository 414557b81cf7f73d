import { hostPaths } from '../home/layout.js';
import { runningDaemon, startDaemon, stopDaemon } from '../util/daemon.js';
import { isSameProcessAlive, signal, type ProcessRef } from '../util/proc.js';
import { selfCommand } from '../version.js';
import { inNamespace } from '../netns/network.js';
import { readAgentStatus } from './status.js';

/** The running agent of a host, if any. */
export function runningAgent(home: string, host: string): ProcessRef | undefined {
  return runningDaemon(hostPaths(home, host).kubeletPidFile);
}

/**
 * Starts a host's agent detached (its own session and process group) and waits until it runs.
 * With `netns`, the agent runs inside the host's network namespace, and so does everything it starts.
 */
export async function startAgent(home: string, host: string, netns?: string): Promise<ProcessRef> {
  const p = hostPaths(home, host);
  const command = [...selfCommand, 'agent', '--home', home, '--host', host];
  return startDaemon({
    name: `the agent of ${host}`,
    command: netns ? inNamespace(netns, command) : command,
    pidFile: p.kubeletPidFile,
    logFile: p.kubeletLog,
    cwd: p.root,
  });
}

/** Asks the agent to stop its pods and exit; kills the host's process group if it does not. */
export async function stopAgent(home: string, host: string, timeoutMs = 15_000): Promise<boolean> {
  return stopDaemon(hostPaths(home, host).kubeletPidFile, timeoutMs);
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
