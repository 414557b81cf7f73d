import { isSameProcessAlive, signal } from '../util/proc.js';
import { readAgentStatus } from './status.js';

/**
 * Containers left by an agent that died without stopping them (it was SIGKILLed alone).
 * A new agent cannot adopt them, so it stops them and starts its own. A recorded pid whose
 * kernel start time differs is another process that reused the number: left alone.
 * Returns the pids it killed.
 */
export function killOrphans(statusFile: string, log: (l: string) => void): number[] {
  const killed: number[] = [];
  const old = readAgentStatus(statusFile);
  for (const pod of old?.pods ?? []) {
    for (const c of pod.containers) {
      if (c.pid && isSameProcessAlive({ pid: c.pid, startTicks: c.startTicks })) {
        log(`stopping orphaned container ${pod.name}/${c.name} pid ${c.pid}`);
        if (signal(c.pid, 'SIGKILL')) killed.push(c.pid);
      }
    }
  }
  return killed;
}
