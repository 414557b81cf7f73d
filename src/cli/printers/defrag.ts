import { humanizeBytes } from '../../etcd/humanize.js';
import { fragmentation, type MemberSpace, type Plan } from '../../defrag/plan.js';
import type { StepResult } from '../../defrag/run.js';
import { etcdctlTable } from './table.js';

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
