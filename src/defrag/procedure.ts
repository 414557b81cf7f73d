import { disarmAlarms, listAlarms } from '../etcd/alarms.js';
import { compactTo, currentRevision } from '../etcd/compact.js';
import type { Connection } from '../etcd/connection.js';
import type { EndpointStatus } from '../etcd/status.js';
import { UserError } from '../util/errors.js';
import { observeMembers, type DefragTarget } from './observe.js';
import { belowQuotaThreshold, planDefrag, type MemberSpace, type Plan } from './plan.js';
import type { Rule } from './rule.js';
import { runDefrag, type StepResult } from './run.js';

export interface DefragCommandOptions {
  rule: Rule;
  dryRun: boolean;
  force: boolean;
  moveLeader: boolean;
  recover: boolean;
  minWaitMs: number;
  catchUpTimeoutMs: number;
}

/** What the procedure does, as it does it; src/cli prints these (or collects them for -w json). */
export type DefragEvent =
  | { kind: 'observed'; statuses: EndpointStatus[]; members: MemberSpace[]; after: boolean }
  | { kind: 'compacting'; revision: bigint }
  | { kind: 'plan'; plan: Plan }
  | { kind: 'progress'; line: string }
  | { kind: 'results'; results: StepResult[] }
  | { kind: 'alarms'; outcome: AlarmOutcome };

/** The whole run: everything -w json reports. */
export interface DefragReport {
  dryRun: boolean;
  plan: Plan;
  compactedTo?: bigint;
  before: MemberSpace[];
  after?: MemberSpace[];
  results: StepResult[];
  alarms?: AlarmOutcome;
}

export const QUOTA_THRESHOLD = 0.9;

/** The seed's section 4.10.5 as one command. Failed members are results with an error. */
export async function defragCommand(conn: Connection, targets: DefragTarget[], o: DefragCommandOptions, report: (e: DefragEvent) => void = () => {}): Promise<DefragReport> {
  let { members, statuses } = await observeMembers(conn, targets);
  report({ kind: 'observed', statuses, members, after: false });
  const before = members;
  let compactedTo: bigint | undefined;
  if (o.recover) {
    const refusal = planDefrag(members, { rule: o.rule, all: true, force: o.force }).refusal;
    if (refusal) throw new UserError(refusal);
    if (!o.dryRun) {
      compactedTo = await currentRevision(conn);
      report({ kind: 'compacting', revision: compactedTo });
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
  report({ kind: 'plan', plan });
  if (o.dryRun) return { dryRun: true, plan, before, results: [] };
  const results: StepResult[] = await runDefrag(conn, targets, plan, {
    commandTimeoutMs: conn.commandTimeoutMs,
    catchUpTimeoutMs: o.catchUpTimeoutMs,
    minWaitMs: o.minWaitMs,
    onEvent: (line) => report({ kind: 'progress', line }),
  });
  ({ members, statuses } = await observeMembers(conn, targets));
  report({ kind: 'observed', statuses, members, after: true });
  report({ kind: 'results', results });
  const alarms = await handleAlarms(conn, members);
  report({ kind: 'alarms', outcome: alarms });
  return { dryRun: false, plan, compactedTo, before, after: members, results, alarms };
}

export interface AlarmOutcome {
  raised: string[];
  disarmed: string[];
  /** What was done or what to do, in a sentence. */
  message: string;
  /** Set when the admin must act: an alarm etcd-ops leaves raised. */
  advice?: string;
}

/**
 * NOSPACE is disarmed only when every member is below 90 % of its quota: disarming earlier
 * lets writes fill the last of the space and raise it again at once.
 */
export async function handleAlarms(conn: Connection, members: MemberSpace[]): Promise<AlarmOutcome> {
  const alarms = await listAlarms(conn);
  const raised = alarms.map((a) => `${a.memberID.toString(16)}:${a.alarm}`);
  if (alarms.length === 0) return { raised, disarmed: [], message: 'no alarms are raised' };
  const other = alarms.filter((a) => a.alarm !== 'NOSPACE');
  if (other.length) {
    const advice = `alarm ${other.map((a) => a.alarm).join(', ')} is raised: etcd-ops leaves it for you; a CORRUPT member must be replaced from a healthy member or a backup`;
    return { raised, disarmed: [], message: advice, advice };
  }
  if (belowQuotaThreshold(members, QUOTA_THRESHOLD)) {
    const disarmed = await disarmAlarms(conn);
    return { raised, disarmed: disarmed.map((a) => `${a.memberID.toString(16)}:${a.alarm}`), message: `NOSPACE disarmed: every member is now below ${QUOTA_THRESHOLD * 100} % of its quota` };
  }
  const full = members.filter((m) => m.dbSize >= m.dbQuota * QUOTA_THRESHOLD);
  const advice =
    `NOSPACE stays raised: ${full.map((m) => `${m.name ?? m.endpoint} uses ${Math.round((m.dbSize / m.dbQuota) * 100)} % of its quota`).join(', ')}. ` +
    'Free space first (etcd-ops compact, delete what is not needed), then run etcd-ops defrag --recover again, or raise the quota (--quota-backend-bytes).';
  return { raised, disarmed: [], message: advice, advice };
}
