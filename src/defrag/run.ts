import { describeEtcdError, withClient, type Connection } from '../etcd/connection.js';
import { endpointStatus } from '../etcd/status.js';
import { sleep } from '../util/time.js';
import { observeMembers, type DefragTarget } from './observe.js';
import type { MemberSpace, Plan } from './plan.js';

export interface StepResult {
  endpoint: string;
  name?: string;
  memberId: string;
  /** Leadership as observed right before this member's defrag (not as planned); undefined: it did not answer. */
  wasLeader?: boolean;
  movedLeaderTo?: string;
  before: { dbSize: number; dbSizeInUse: number };
  after?: { dbSize: number; dbSizeInUse: number };
  defragMs?: number;
  waitMs?: number;
  error?: string;
}

export interface RunOptions {
  /** Deadline for one member's defragment call (etcdctl's --command-timeout). */
  commandTimeoutMs: number;
  /** How long a defragmented member may take to answer and catch up before we give up. */
  catchUpTimeoutMs: number;
  /** An optional floor between members, on top of the health wait. */
  minWaitMs: number;
  onEvent?: (line: string) => void;
}

/**
 * Executes a plan, one member at a time. After each member it waits, bounded, until the member
 * answers and its applied index has reached the leader's commit index as measured right after
 * the defrag: proof it serves again, with no blind sleep. A failure stops the work when the
 * cluster is no longer healthy, and otherwise moves on.
 */
export async function runDefrag(conn: Connection, targets: DefragTarget[], plan: Plan, o: RunOptions): Promise<StepResult[]> {
  const say = o.onEvent ?? (() => {});
  const results: StepResult[] = [];
  for (const step of plan.steps) {
    const m = step.member;
    const who = (leader: boolean | undefined) => `${m.name ? `${m.name} ` : ''}${m.endpoint} (${m.memberId.toString(16)}${leader ? ', leader' : ''})`;
    let label = who(m.isLeader);
    const r: StepResult = {
      endpoint: m.endpoint,
      name: m.name,
      memberId: m.memberId.toString(16),
      before: { dbSize: m.dbSize, dbSizeInUse: m.dbSizeInUse },
    };
    results.push(r);
    try {
      if (step.moveLeaderFirst) {
        r.movedLeaderTo = await moveLeaderAway(conn, targets, m);
        say(`moved leadership from ${m.name ?? m.endpoint} to ${r.movedLeaderTo}`);
      }
      // Leadership can change between the plan and this step (a leader killed mid-run): observe it.
      const now = await endpointStatus(conn, m.endpoint);
      r.wasLeader = now.status ? now.status.leader === now.status.header.member_id : undefined;
      if (r.wasLeader !== undefined) label = who(r.wasLeader);
      if (r.wasLeader !== undefined && r.wasLeader !== m.isLeader) say(`${m.name ?? m.endpoint} is ${r.wasLeader ? 'now the leader' : 'no longer the leader'} (it was ${m.isLeader ? 'the leader' : 'a follower'} when planned)`);
      say(`defragmenting ${label} ...`);
      const start = performance.now();
      await defragmentMember(conn, m.endpoint, o.commandTimeoutMs);
      r.defragMs = performance.now() - start;
      const waitStart = performance.now();
      await waitCaughtUp(conn, targets, m.endpoint, o.catchUpTimeoutMs);
      const floor = o.minWaitMs - (performance.now() - waitStart);
      if (floor > 0) await sleep(floor);
      r.waitMs = performance.now() - waitStart;
      const after = await endpointStatus(conn, m.endpoint);
      if (after.status) r.after = { dbSize: Number(after.status.dbSize), dbSizeInUse: Number(after.status.dbSizeInUse) };
      say(`defragmented ${label} in ${(r.defragMs / 1000).toFixed(2)}s; answered and caught up ${(r.waitMs / 1000).toFixed(2)}s later`);
    } catch (err) {
      r.error = (err as Error).message;
      say(`failed ${label}: ${r.error}`);
      const { members } = await observeMembers(conn, targets);
      const down = members.filter((x) => !x.healthy);
      if (down.length) {
        say(`stopping: ${down.map((x) => x.name ?? x.endpoint).join(', ')} unhealthy after the failure`);
        break;
      }
    }
  }
  return results;
}

export async function defragmentMember(conn: Connection, endpoint: string, timeoutMs: number): Promise<void> {
  try {
    await withClient({ ...conn, commandTimeoutMs: timeoutMs }, [endpoint], (c) => c.maintenance.defragment());
  } catch (err) {
    const msg = describeEtcdError(err, { ...conn, commandTimeoutMs: timeoutMs });
    if (msg.startsWith('context deadline exceeded')) {
      throw new Error(`defragment did not finish within --command-timeout ${timeoutMs / 1000}s: raise --command-timeout (a defrag takes about 10 s per GB); the member may still be defragmenting`);
    }
    throw new Error(`defragment failed: ${msg}`);
  }
}

/** Waits until the member answers and has applied everything the leader had committed. */
async function waitCaughtUp(conn: Connection, targets: DefragTarget[], endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let target: bigint | undefined;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (target === undefined) {
      const all = await Promise.all(targets.map((t) => endpointStatus({ ...conn, commandTimeoutMs: 2000 }, t.endpoint)));
      const leader = all.find((s) => s.status && s.status.header.member_id === s.status.leader);
      target = leader?.status?.raftIndex;
    }
    const s = await endpointStatus({ ...conn, commandTimeoutMs: 2000 }, endpoint);
    if (s.status && target !== undefined) {
      if (s.status.raftAppliedIndex >= target) return;
      last = `applied index ${s.status.raftAppliedIndex} of ${target}`;
    } else if (s.error) {
      last = s.error;
    }
    await sleep(100);
  }
  throw new Error(`the member did not catch up within ${timeoutMs / 1000}s after its defrag (${last})`);
}

/** Hands leadership to the healthy follower that has applied the most, and waits for it. */
async function moveLeaderAway(conn: Connection, targets: DefragTarget[], leader: MemberSpace): Promise<string> {
  const { members, statuses } = await observeMembers(conn, targets);
  const followers = members
    .map((m, i) => ({ m, applied: statuses[i].status?.raftAppliedIndex ?? 0n }))
    .filter(({ m }) => m.healthy && !m.isLeader && !m.isLearner)
    .sort((a, b) => (b.applied > a.applied ? 1 : b.applied < a.applied ? -1 : 0));
  const to = followers[0]?.m;
  if (!to) throw new Error('no healthy follower to move leadership to');
  await withClient(conn, [leader.endpoint], (c) => c.maintenance.moveLeader({ targetID: to.memberId.toString() }));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const s = await endpointStatus(conn, to.endpoint);
    if (s.status && s.status.leader === to.memberId) return to.name ?? to.endpoint;
    await sleep(100);
  }
  throw new Error(`leadership did not move to ${to.name ?? to.endpoint} within 10s`);
}

