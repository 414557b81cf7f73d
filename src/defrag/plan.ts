import type { Rule, SpaceVars } from './rule.js';

/** What the planner knows of one member: its status, its quota, and whether it answers. */
export interface MemberSpace {
  endpoint: string;
  name?: string;
  memberId: bigint;
  isLeader: boolean;
  isLearner: boolean;
  healthy: boolean;
  error?: string;
  dbSize: number;
  dbSizeInUse: number;
  dbQuota: number;
}

export function spaceVars(m: MemberSpace): SpaceVars {
  return {
    dbSize: m.dbSize,
    dbSizeInUse: m.dbSizeInUse,
    dbSizeFree: m.dbSize - m.dbSizeInUse,
    dbQuota: m.dbQuota,
    dbQuotaUsage: m.dbQuota > 0 ? m.dbSize / m.dbQuota : 0,
  };
}

export function fragmentation(m: Pick<MemberSpace, 'dbSize' | 'dbSizeInUse'>): number {
  return m.dbSize > 0 ? (m.dbSize - m.dbSizeInUse) / m.dbSize : 0;
}

export interface PlanStep {
  member: MemberSpace;
  /** Transfer leadership away before this step (the leader, with --move-leader). */
  moveLeaderFirst: boolean;
}

export interface Plan {
  steps: PlanStep[];
  skipped: Array<{ member: MemberSpace; reason: string }>;
  /** Why the plan must not run (an unhealthy member without --force). */
  refusal?: string;
}

export interface PlanOptions {
  rule: Rule;
  /** Defragment every member, whatever the rule says (NOSPACE recovery). */
  all?: boolean;
  force?: boolean;
  moveLeader?: boolean;
}

/**
 * The seed's order: one member at a time, followers first, the leader last. A defrag blocks its
 * member, so the leader goes last to cost the cluster one election at most (none with
 * --move-leader). An unhealthy member stops the plan unless forced: defragmenting a follower
 * while another is down would take quorum away.
 */
export function planDefrag(members: MemberSpace[], o: PlanOptions): Plan {
  const skipped: Plan['skipped'] = [];
  const chosen: MemberSpace[] = [];
  for (const m of members) {
    if (!m.healthy) skipped.push({ member: m, reason: `unhealthy: ${m.error ?? 'no answer'}` });
    else if (m.isLearner) skipped.push({ member: m, reason: 'learner' });
    else if (!o.all && !o.rule(spaceVars(m))) skipped.push({ member: m, reason: 'rule not met' });
    else chosen.push(m);
  }
  const unhealthy = members.filter((m) => !m.healthy);
  const refusal =
    unhealthy.length && !o.force
      ? `${unhealthy.map((m) => `${m.name ?? m.endpoint} (${m.error ?? 'no answer'})`).join(', ')} ${unhealthy.length === 1 ? 'is' : 'are'} unhealthy: refusing to defragment; bring ${unhealthy.length === 1 ? 'it' : 'them'} back, or pass --force`
      : undefined;
  const ordered = [...chosen.filter((m) => !m.isLeader), ...chosen.filter((m) => m.isLeader)];
  const canMove = members.some((m) => !m.isLeader && m.healthy && !m.isLearner);
  return {
    steps: ordered.map((member) => ({ member, moveLeaderFirst: Boolean(o.moveLeader && member.isLeader && canMove) })),
    skipped,
    refusal,
  };
}

/** NOSPACE may be disarmed only when every member is below the threshold (90 % of its quota). */
export function belowQuotaThreshold(members: Array<Pick<MemberSpace, 'dbSize' | 'dbQuota'>>, threshold = 0.9): boolean {
  return members.every((m) => m.dbSize < m.dbQuota * threshold);
}
