import type { Command } from 'commander';
import { connectionOptions, resolveTarget, writeOutOption, type ConnectionFlags, type Target } from './connection.js';
import { UserError } from '../util/errors.js';

interface EndpointFlags extends ConnectionFlags {
  cluster?: boolean;
  writeOut: string;
}

export async function targetEndpoints(target: Target, cluster?: boolean): Promise<string[]> {
  if (!cluster || target.home) return target.conn.endpoints;
  const { clusterEndpoints } = await import('../etcd/members.js');
  try {
    return await clusterEndpoints(target.conn);
  } catch (err) {
    const { describeEtcdError } = await import('../etcd/connection.js');
    throw new UserError(`cannot list the cluster's members through ${target.conn.endpoints.join(',')}: ${describeEtcdError(err, target.conn)}`);
  }
}

export function register(program: Command): void {
  const endpoint = program.command('endpoint').description('status and health of etcd members, as etcdctl shows them');

  writeOutOption(
    connectionOptions(endpoint.command('status').description('member status: ID, version, DB size, leader, raft indexes'))
      .option('--cluster', 'use all members of the cluster, from the member list'),
    ['simple', 'table', 'json'],
    'simple',
  ).action(async (flags: EndpointFlags) => {
    const target = resolveTarget(flags);
    const { endpointStatuses } = await import('../etcd/status.js');
    const { printEndpointStatus } = await import('./printers/endpoint.js');
    const rows = await endpointStatuses(target.conn, await targetEndpoints(target, flags.cluster));
    process.stdout.write(printEndpointStatus(rows, flags.writeOut));
    const failed = rows.filter((r) => r.error);
    if (failed.length) {
      throw new UserError(`${failed.length} of ${rows.length} endpoints did not answer: ${failed.map((f) => `${f.endpoint} (${f.error})`).join('; ')}`);
    }
  });

  writeOutOption(
    connectionOptions(endpoint.command('health').description('checks that each member commits a proposal and has no alarm'))
      .option('--cluster', 'use all members of the cluster, from the member list'),
    ['simple', 'table', 'json'],
    'simple',
  ).action(async (flags: EndpointFlags) => {
    const target = resolveTarget(flags);
    const { endpointHealths } = await import('../etcd/health.js');
    const { printEndpointHealth } = await import('./printers/endpoint.js');
    const rows = await endpointHealths(target.conn, await targetEndpoints(target, flags.cluster));
    const { out, err } = printEndpointHealth(rows, flags.writeOut);
    process.stdout.write(out);
    process.stderr.write(err);
    if (rows.some((r) => !r.health)) throw new UserError('unhealthy cluster');
  });
}
