import { disarmAlarms, listAlarms } from '../etcd/alarms.js';
import { compactTo, currentRevision } from '../etcd/compact.js';
import type { Connection } from '../etcd/connection.js';
import { UserError } from '../util/errors.js';
import { stringifyBig } from '../util/bigjson.js';
import { printDefragPlan, printDefragResults, printSpace } from '../cli/printers/defrag.js';
import { printEndpointStatus } from '../cli/printers/endpoint.js';
import { observeMembers, type DefragTarget } from './observe.js';
import { belowQuotaThreshold, planDefrag, type MemberSpace } from './plan.js';
import type { Rule } from './rule.js';
import { runDefrag, type StepResult } from './run.js';

export interface DefragCommandOptions {
  rule: Rule;
  ruleText: string;
  dryRun: boolean;
  force: boolean;
  moveLeader: boolean;
  recover: boolean;
  minWaitMs: number;
  catchUpTimeoutMs: number;
  json: boolean;
  out: (s: string) => void;
}

export const QUOTA_THRESHOLD = 0.9;

/** The seed's section 4.10.5 as one command. Returns false when any member failed. */
export async function defragCommand(conn: Connection, targets: DefragTarget[], o: DefragCommandOptions): Promise<boolean> {
  const text = (s: string) => {
    if (!o.json) o.out(s);
  };
  let { members, statuses } = await observeMembers(conn, targets);
  text(printEndpointStatus(statuses, 'table'));
  text(printSpace(members));
  const before = members;
  let compactedTo: bigint | undefined;
  if (o.recover) {
    const refusal = planDefrag(members, { rule: o.rule, all: true, force: o.force }).refusal;
    if (refusal) throw new UserError(refusal);
    if (!o.dryRun) {
      compactedTo = await currentRevision(conn);
      text(`compacting history up to revision ${compactedTo} (physical) before defragmenting\n`);
      try {
        await compactTo(conn, compactedTo);
      } catch (err) {
        // Already compacted up to here is fine: there is simply nothing older to drop.
        if (!/already compacted/.test((err as Error).message)) throw new UserError((err as Error).message);
      }
      ({ members, statuses } = await observeMembers(conn, targets));
    }
  }
  const plan = planDefrag(members, { rule: o.rule, all: o.recover, force: o.force, moveLeader: o.moveLeader });
  if (plan.refusal) throw new UserError(plan.refusal);
  text(printDefragPlan(plan, o.recover ? 'every member (--recover)' : o.ruleText));
  if (o.dryRun) {
    if (o.json) o.out(stringifyBig({ dryRun: true, plan: plan.steps.map((s) => planJson(s.member, s.moveLeaderFirst)), skipped: plan.skipped.map((s) => ({ ...planJson(s.member), reason: s.reason })) }, 2) + '\n');
    text('--dry-run: nothing was changed\n');
    return true;
  }
  const results: StepResult[] = await runDefrag(conn, targets, plan, {
    commandTimeoutMs: conn.commandTimeoutMs,
    catchUpTimeoutMs: o.catchUpTimeoutMs,
    minWaitMs: o.minWaitMs,
    onEvent: (l) => text(`${l}\n`),
  });
  ({ members, statuses } = await observeMembers(conn, targets));
  text('\n' + printEndpointStatus(statuses, 'table'));
  text(printDefragResults(results));
  const alarms = await handleAlarms(conn, members, (l) => text(`${l}\n`));
  if (o.json) {
    o.out(
      stringifyBig(
        {
          compactedTo,
          order: results.map((r) => r.memberId),
          results,
          skipped: plan.skipped.map((s) => ({ ...planJson(s.member), reason: s.reason })),
          before: before.map((m) => planJson(m)),
          after: members.map((m) => planJson(m)),
          alarms,
        },
        2,
      ) + '\n',
    );
  }
  return results.every((r) => !r.error);
}

function planJson(m: MemberSpace, moveLeaderFirst?: boolean) {
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

export interface AlarmOutcome {
  raised: string[];
  disarmed: string[];
  advice?: string;
}

/**
 * NOSPACE is disarmed only when every member is below 90 % of its quota: disarming earlier
 * lets writes fill the last of the space and raise it again at once.
 */
export async function handleAlarms(conn: Connection, members: MemberSpace[], say: (l: string) => void): Promise<AlarmOutcome> {
  const alarms = await listAlarms(conn);
  const raised = alarms.map((a) => `${a.memberID.toString(16)}:${a.alarm}`);
  if (alarms.length === 0) {
    say('no alarms are raised');
    return { raised, disarmed: [] };
  }
  const other = alarms.filter((a) => a.alarm !== 'NOSPACE');
  if (other.length) {
    const advice = `alarm ${other.map((a) => a.alarm).join(', ')} is raised: etcd-ops leaves it for you; a CORRUPT member must be replaced from a healthy member or a backup`;
    say(advice);
    return { raised, disarmed: [], advice };
  }
  if (belowQuotaThreshold(members, QUOTA_THRESHOLD)) {
    const disarmed = await disarmAlarms(conn);
    say(`NOSPACE disarmed: every member is now below ${QUOTA_THRESHOLD * 100} % of its quota`);
    return { raised, disarmed: disarmed.map((a) => `${a.memberID.toString(16)}:${a.alarm}`) };
  }
  const full = members.filter((m) => m.dbSize >= m.dbQuota * QUOTA_THRESHOLD);
  const advice =
    `NOSPACE stays raised: ${full.map((m) => `${m.name ?? m.endpoint} uses ${Math.round((m.dbSize / m.dbQuota) * 100)} % of its quota`).join(', ')}. ` +
    'Free space first (etcd-ops compact, delete what is not needed), then run etcd-ops defrag --recover again, or raise the quota (--quota-backend-bytes).';
  say(advice);
  return { raised, disarmed: [], advice };
}
