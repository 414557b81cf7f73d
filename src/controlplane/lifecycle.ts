/** Starting and stopping the processes of a home: one agent per host, and the load balancer. */
import { runningAgent, startAgent, stopAgent } from '../agent/control.js';
import type { ClusterFile } from '../home/cluster-file.js';
import { lbPaths } from '../home/layout.js';
import { runningDaemon, startDaemon, stopDaemon } from '../util/daemon.js';
import { UserError } from '../util/errors.js';
import { selfCommand } from '../version.js';
import { bringUpNetwork, hostNetwork, tearDownNetwork } from './network.js';

export function hostsRunning(home: string, cluster: ClusterFile): string[] {
  return cluster.hosts.filter((h) => runningAgent(home, h.name)).map((h) => h.name);
}

export async function startHosts(home: string, cluster: ClusterFile, hosts = cluster.hosts.map((h) => h.name)): Promise<void> {
  for (const h of hosts) {
    if (!cluster.hosts.some((x) => x.name === h)) {
      throw new UserError(`no host ${h} in ${home}: hosts are ${cluster.hosts.map((x) => x.name).join(', ')}`);
    }
  }
  bringUpNetwork(home, cluster);
  await Promise.all(hosts.map((h) => startAgent(home, h, hostNetwork(cluster, h)?.netns)));
}

/** The load balancer in front of the API servers, outside the hosts like an external LB. */
export async function startLoadBalancer(home: string): Promise<void> {
  const p = lbPaths(home);
  await startDaemon({ name: 'the load balancer', command: [...selfCommand, 'lb', '--home', home], pidFile: p.pidFile, logFile: p.logFile, cwd: home });
}

export function loadBalancerRunning(home: string): boolean {
  return runningDaemon(lbPaths(home).pidFile) !== undefined;
}

export async function stopHosts(home: string, cluster: ClusterFile): Promise<string[]> {
  const stopped = await Promise.all(cluster.hosts.map(async (h) => ((await stopAgent(home, h.name)) ? h.name : undefined)));
  if (await stopDaemon(lbPaths(home).pidFile)) stopped.push('load balancer');
  if (tearDownNetwork(cluster).length) stopped.push('the hosts\' network');
  return stopped.filter((h): h is string => h !== undefined);
}
