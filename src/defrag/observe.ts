import { describeEtcdError, withClient, type Connection } from '../etcd/connection.js';
import { scrapeSpaceMetrics } from '../etcd/metrics.js';
import { endpointStatuses, type EndpointStatus } from '../etcd/status.js';
import type { MemberSpace } from './plan.js';

export interface DefragTarget {
  endpoint: string;
  name?: string;
  /** Where the member serves Prometheus metrics (its client URL unless told otherwise). */
  metricsURL?: string;
}

/** etcd's default backend quota, used when a member's metrics cannot be read. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** A member is healthy when it answers a linearizable read; NOSPACE alone does not make it unhealthy. */
async function readsThroughRaft(conn: Connection, endpoint: string): Promise<string | undefined> {
  try {
    await withClient(conn, [endpoint], (c) => c.get('health').string());
    return undefined;
  } catch (err) {
    return /permission denied/i.test((err as Error).message) ? undefined : describeEtcdError(err, conn);
  }
}

export async function observeMembers(conn: Connection, targets: DefragTarget[]): Promise<{ members: MemberSpace[]; statuses: EndpointStatus[] }> {
  const [statuses, metrics, reads] = await Promise.all([
    endpointStatuses(conn, targets.map((t) => t.endpoint)),
    scrapeSpaceMetrics(conn, targets.map((t) => ({ endpoint: t.endpoint, metricsURL: t.metricsURL ?? t.endpoint }))),
    Promise.all(targets.map((t) => readsThroughRaft(conn, t.endpoint))),
  ]);
  const members = targets.map((t, i): MemberSpace => {
    const s = statuses[i].status;
    const error = statuses[i].error ?? reads[i];
    return {
      endpoint: t.endpoint,
      name: t.name,
      memberId: s?.header.member_id ?? 0n,
      isLeader: s !== undefined && s.header.member_id === s.leader,
      isLearner: s?.isLearner ?? false,
      healthy: error === undefined,
      error,
      dbSize: Number(s?.dbSize ?? 0n),
      dbSizeInUse: Number(s?.dbSizeInUse ?? 0n),
      dbQuota: metrics[i].quotaBytes ?? DEFAULT_QUOTA_BYTES,
    };
  });
  return { members, statuses };
}
