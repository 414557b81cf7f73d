import type { Command } from 'commander';
import { connectionOptions, durationOption, resolveTarget, writeOutOption, type ConnectionFlags } from './connection.js';
import { targetEndpoints } from './endpoint.js';
import { DEFAULT_RULE_TEXT } from '../defrag/thresholds.js';
import { UserError } from '../util/errors.js';

interface DefragFlags extends ConnectionFlags {
  cluster?: boolean;
  dryRun?: boolean;
  minWait: number;
  catchUpTimeout: number;
  moveLeader?: boolean;
  force?: boolean;
  rule?: string;
  recover?: boolean;
  writeOut: string;
}

export function register(program: Command): void {
  const defrag = writeOutOption(
    connectionOptions(
      program
        .command('defrag')
        .description('defragments members one at a time, followers first and the leader last, then deals with NOSPACE')
        .option('--cluster', 'use all members of the cluster, from the member list')
        .option('--dry-run', 'show the plan and change nothing')
        .addOption(durationOption('--min-wait <duration>', 'a floor on the wait between members, on top of the health wait', 0))
        .addOption(durationOption('--catch-up-timeout <duration>', 'how long a member may take to answer and catch up after its defrag', 60_000))
        .option('--move-leader', 'transfer leadership away before defragmenting the leader')
        .option('--force', 'defragment even when a member is unhealthy')
        .option('--rule <expr>', `which members to defragment, over dbSize, dbSizeInUse, dbSizeFree, dbQuota, dbQuotaUsage (default: ${DEFAULT_RULE_TEXT})`)
        .option('--recover', 'NOSPACE recovery: compact to the current revision, defragment every member, disarm once below 90 % of the quota'),
      // A defrag takes about 10 s per GB: a longer default than etcdctl's 5 s.
      { commandTimeoutMs: 30_000 },
    ),
    ['table', 'json'],
    'table',
  );
  defrag.action(async (flags: DefragFlags) => {
    const { compileRule, RuleError } = await import('../defrag/rule.js');
    const { thresholdRule } = await import('../defrag/thresholds.js');
    let rule;
    try {
      rule = compileRule(flags.rule ?? thresholdRule());
    } catch (err) {
      if (err instanceof RuleError) throw new UserError(err.message);
      throw err;
    }
    const target = resolveTarget(flags);
    const endpoints = await targetEndpoints(target, flags.cluster);
    const targets = endpoints.map((endpoint) => {
      const host = target.cluster?.hosts.find((h) => h.clientURL === endpoint);
      return { endpoint, name: host?.name, metricsURL: host?.metricsURL };
    });
    const { defragCommand } = await import('../defrag/procedure.js');
    const { defragJson, printDefragEvent } = await import('./printers/defrag.js');
    const json = flags.writeOut === 'json';
    const ruleText = flags.rule ?? `default (${DEFAULT_RULE_TEXT})`;
    const dryRun = flags.dryRun ?? false;
    const report = await defragCommand(
      target.conn,
      targets,
      {
        rule,
        dryRun,
        force: flags.force ?? false,
        moveLeader: flags.moveLeader ?? false,
        recover: flags.recover ?? false,
        minWaitMs: flags.minWait,
        catchUpTimeoutMs: flags.catchUpTimeout,
      },
      (e) => {
        if (!json) process.stdout.write(printDefragEvent(e, flags.recover ? 'every member (--recover)' : ruleText, dryRun));
      },
    );
    if (json) process.stdout.write(defragJson(report));
    const ok = report.results.every((r) => !r.error);
    if (!ok) process.exitCode = 1;
  });

  connectionOptions(
    program
      .command('compact')
      .description('compacts etcd history (physically): to the current revision, to --revision, or keeping --keep of history')
      .addOption(durationOption('--keep <duration>', 'keep this much recent history (from the revision samples the etcd-ops operator records each minute)'))
      .option('--revision <rev>', 'compact up to this revision'),
  ).action(async (flags: ConnectionFlags & { keep?: number; revision?: string }) => {
    if (flags.keep !== undefined && flags.revision !== undefined) throw new UserError('--keep and --revision exclude each other: give one');
    if (flags.revision !== undefined && !/^\d+$/.test(flags.revision)) throw new UserError(`--revision "${flags.revision}" is not a revision: give a whole number`);
    const target = resolveTarget(flags);
    const c = await import('../etcd/compact.js');
    const { describeEtcdError } = await import('../etcd/connection.js');
    let revision: bigint;
    try {
      if (flags.revision !== undefined) revision = BigInt(flags.revision);
      else if (flags.keep !== undefined) {
        const found = c.revisionToKeep(await c.readRevisionSamples(target.conn), flags.keep);
        if (found === undefined) {
          throw new UserError(`no revision sample is ${flags.keep / 1000}s old yet (the etcd-ops operator records one a minute; other clusters have none): wait, or give --revision`);
        }
        revision = found;
      } else revision = await c.currentRevision(target.conn);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`etcd at ${target.conn.endpoints.join(',')} did not answer: ${describeEtcdError(err, target.conn)}`);
    }
    try {
      await c.compactTo(target.conn, revision);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    process.stdout.write(`compacted revision ${revision}\n`);
  });
}
