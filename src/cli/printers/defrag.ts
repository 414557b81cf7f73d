import { humanizeBytes } from '../../etcd/humanize.js';
import { fragmentation, type MemberSpace, type Plan } from '../../defrag/plan.js';
import type { DefragEvent, DefragReport } from '../../defrag/procedure.js';
import type { StepResult } from '../../defrag/run.js';
import { stringifyBig } from '../../util/bigjson.js';
import { etcdctlTable } from '../../util/table.js';
import { printEndpointStatus } from './endpoint.js';

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const who = (m: { name?: string; endpoint: string }) => m.name ?? m.endpoint;

export function printSpace(members: MemberSpace[]): string {
  return etcdctlTable(
    ['MEMBER', 'DB SIZE', 'DB SIZE IN USE', 'RECLAIMABLE MB', 'FRAGMENTATION', 'QUOTA', 'QUOTA USAGE'],
    members.map((m) => [
      who(m),
      humanizeBytes(m.dbSize),
      humanizeBytes(m.dbSizeInUse),
      mb(m.dbSize - m.dbSizeInUse),
      pct(fragmentation(m)),
      humanizeBytes(m.dbQuota),
      pct(m.dbQuota ? m.dbSize / m.dbQuota : 0),
    ]),
  ) + '\n';
}

export function printDefragPlan(plan: Plan, ruleText: string): string {
  const lines = [`rule: ${ruleText}`];
  if (plan.steps.length === 0) lines.push('nothing to defragment: no member meets the rule');
  else {
    lines.push(
      `plan, one member at a time: ${plan.steps
        .map((s) => `${who(s.member)}${s.member.isLeader ? (s.moveLeaderFirst ? ' (leader: move leadership away first)' : ' (leader, last)') : ''}`)
        .join(' → ')}`,
    );
  }
  for (const s of plan.skipped) lines.push(`skipping ${who(s.member)}: ${s.reason}`);
  return lines.join('\n') + '\n';
}

export function printDefragResults(results: StepResult[]): string {
  if (results.length === 0) return '';
  return etcdctlTable(
    ['MEMBER', 'ID', 'WAS LEADER', 'DB SIZE BEFORE', 'DB SIZE AFTER', 'FREED MB', 'DEFRAG', 'WAIT', 'ERROR'],
    results.map((r) => [
      who(r),
      r.memberId,
      r.wasLeader === undefined ? 'unknown' : String(r.wasLeader),
      humanizeBytes(r.before.dbSize),
      r.after ? humanizeBytes(r.after.dbSize) : '',
      r.after ? mb(r.before.dbSize - r.after.dbSize) : '',
      r.defragMs !== undefined ? `${(r.defragMs / 1000).toFixed(2)}s` : '',
      r.waitMs !== undefined ? `${(r.waitMs / 1000).toFixed(2)}s` : '',
      r.error ?? '',
    ]),
  ) + '\n';
}

/** The text `etcd-ops defrag` prints as the procedure goes (nothing with -w json). */
export function printDefragEvent(e: DefragEvent, ruleText: string, dryRun: boolean): string {
  switch (e.kind) {
    case 'observed':
      return e.after ? '\n' + printEndpointStatus(e.statuses, 'table') : printEndpointStatus(e.statuses, 'table') + printSpace(e.members);
    case 'compacting':
      return `compacting history up to revision ${e.revision} (physical) before defragmenting\n`;
    case 'plan':
      return printDefragPlan(e.plan, ruleText) + (dryRun ? '--dry-run: nothing was changed\n' : '');
    case 'progress':
      return `${e.line}\n`;
    case 'results':
      return printDefragResults(e.results);
    case 'alarms':
      return `${e.outcome.message}\n`;
  }
}

/** `etcd-ops defrag -w json`: the plan (with --dry-run) or what was done. */
export function defragJson(r: DefragReport): string {
  const skipped = r.plan.skipped.map((s) => ({ ...memberJson(s.member), reason: s.reason }));
  if (r.dryRun) return stringifyBig({ dryRun: true, plan: r.plan.steps.map((s) => memberJson(s.member, s.moveLeaderFirst)), skipped }, 2) + '\n';
  const alarms = r.alarms && { raised: r.alarms.raised, disarmed: r.alarms.disarmed, ...(r.alarms.advice ? { advice: r.alarms.advice } : {}) };
  return (
    stringifyBig(
      {
        compactedTo: r.compactedTo,
        order: r.results.map((x) => x.memberId),
        results: r.results,
        skipped,
        before: r.before.map((m) => memberJson(m)),
        after: (r.after ?? []).map((m) => memberJson(m)),
        alarms,
      },
      2,
    ) + '\n'
  );
}

function memberJson(m: MemberSpace, moveLeaderFirst?: boolean) {
  return {
    endpoint: m.endpoint,
    name: m.name,
    memberId: m.memberId.toString(16),
    isLeader: m.isLeader,
    dbSize: m.dbSize,
    dbSizeInUse: m.dbSizeInUse,
    dbQuota: m.dbQuota,
    ...(moveLeaderFirst ? { moveLeaderFirst } : {}),
  };
}
