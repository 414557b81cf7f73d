import type { IStatusResponse } from 'etcd3';
import { big } from './ids.js';
import { describeEtcdError, withClient, type Connection } from './connection.js';

/** One member's status with exact 64-bit numbers; `error` when it did not answer. */
export interface EndpointStatus {
  endpoint: string;
  status?: MemberStatus;
  error?: string;
}

export interface MemberStatus {
  header: { cluster_id: bigint; member_id: bigint; revision: bigint; raft_term: bigint };
  version: string;
  dbSize: bigint;
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  dbSizeInUse: bigint;
  isLearner: boolean;
}

export function toMemberStatus(r: IStatusResponse): MemberStatus {
  return {
    header: {
      cluster_id: big(r.header.cluster_id),
      member_id: big(r.header.member_id),
      revision: big(r.header.revision),
      raft_term: big(r.header.raft_term),
    },
    version: r.version,
    dbSize: big(r.dbSize),
    leader: big(r.leader),
    raftIndex: big(r.raftIndex),
    raftTerm: big(r.raftTerm),
    raftAppliedIndex: big((r as { raftAppliedIndex?: string }).raftAppliedIndex),
    errors: (r as { errors?: string[] }).errors ?? [],
    dbSizeInUse: big((r as { dbSizeInUse?: string }).dbSizeInUse),
    isLearner: Boolean((r as { isLearner?: boolean }).isLearner),
  };
}

/** Asks every endpoint on its own, in parallel; an unreachable one yields a row with its error. */
export async function endpointStatuses(conn: Connection, endpoints = conn.endpoints): Promise<EndpointStatus[]> {
  return Promise.all(endpoints.map((endpoint) => endpointStatus(conn, endpoint)));
}

export async function endpointStatus(conn: Connection, endpoint: string): Promise<EndpointStatus> {
  try {
    const r = await withClient(conn, [endpoint], (c) => c.maintenance.status());
    return { endpoint, status: toMemberStatus(r) };
  } catch (err) {
    return { endpoint, error: describeEtcdError(err, conn) };
  }
}

/** The status JSON exactly as `etcdctl endpoint status -w json` prints it (Go omits zero values). */
export function etcdctlStatusJson(s: EndpointStatus): Record<string, unknown> {
  if (!s.status) return { Endpoint: s.endpoint, Status: { errors: [s.error] } };
  const st = s.status;
  const out: Record<string, unknown> = {
    header: omitZero({ cluster_id: st.header.cluster_id, member_id: st.header.member_id, revision: st.header.revision, raft_term: st.header.raft_term }),
  };
  Object.assign(out, omitZero({
    version: st.version,
    dbSize: st.dbSize,
    leader: st.leader,
    raftIndex: st.raftIndex,
    raftTerm: st.raftTerm,
    raftAppliedIndex: st.raftAppliedIndex,
    errors: st.errors.length ? st.errors : undefined,
    dbSizeInUse: st.dbSizeInUse,
    isLearner: st.isLearner || undefined,
  }));
  return { Endpoint: s.endpoint, Status: out };
}

function omitZero(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== 0n && v !== '' && v !== false));
}
