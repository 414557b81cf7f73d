import type { Command } from 'commander';
import { connectionOptions, resolveTarget, writeOutOption, type ConnectionFlags } from './connection.js';
import { targetEndpoints } from './endpoint.js';
import { UserError } from '../util/errors.js';

export function register(program: Command): void {
  writeOutOption(
    connectionOptions(program.command('metrics').description("scrapes each member's Prometheus endpoint: quota, DB size, size in use, reclaimable MB"))
      .option('--cluster', 'use all members of the cluster, from the member list'),
    ['table', 'json'],
    'table',
  ).action(async (flags: ConnectionFlags & { writeOut: string; cluster?: boolean }) => {
    const target = resolveTarget(flags);
    const { scrapeSpaceMetrics } = await import('../etcd/metrics.js');
    const { printSpaceMetrics } = await import('./printers/metrics.js');
    // A local member serves metrics on its own URL; any etcd also serves them on its client URL.
    const targets = target.cluster
      ? target.cluster.hosts.map((h) => ({ endpoint: h.clientURL, metricsURL: h.metricsURL }))
      : (await targetEndpoints(target, flags.cluster)).map((e) => ({ endpoint: e, metricsURL: e }));
    const rows = await scrapeSpaceMetrics(target.conn, targets);
    process.stdout.write(printSpaceMetrics(rows, flags.writeOut));
    const failed = rows.filter((r) => r.error);
    if (failed.length) throw new UserError(`${failed.length} of ${rows.length} members could not be scraped: ${failed.map((f) => f.error).join('; ')}`);
  });
}
