import { hostPaths } from '../home/layout.js';
import { runningAgent } from './control.js';
import { readAgentStatus, type AgentStatus } from './status.js';

/** What `etcd-ops ps` shows of one host: whether its agent runs, and the pods it reports. */
export interface HostPs {
  host: string;
  agentRunning: boolean;
  status?: AgentStatus;
}

/** Each host's agent and its last pod report; a host whose agent is down reports nothing. */
export function collectPs(home: string, hosts: string[]): HostPs[] {
  return hosts.map((host) => {
    const running = runningAgent(home, host) !== undefined;
    return { host, agentRunning: running, status: running ? readAgentStatus(hostPaths(home, host).podStatusFile) : undefined };
  });
}
