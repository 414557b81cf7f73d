import type { IMemberListResponse } from 'etcd3';
import { big } from './ids.js';
import { withAnyEndpoint, type Connection } from './connection.js';

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberList {
  header: { cluster_id: bigint; member_id: bigint; raft_term: bigint };
  members: Member[];
}

/** The member list from the first endpoint that answers. */
export async function memberList(conn: Connection): Promise<MemberList> {
  const r: IMemberListResponse = await withAnyEndpoint(conn, (c) => c.cluster.memberList({ linearizable: true } as never));
  return {
    header: { cluster_id: big(r.header.cluster_id), member_id: big(r.header.member_id), raft_term: big(r.header.raft_term) },
    members: r.members.map((m) => ({
      id: big(m.ID),
      name: m.name,
      peerURLs: m.peerURLs ?? [],
      clientURLs: m.clientURLs ?? [],
      isLearner: Boolean((m as { isLearner?: boolean }).isLearner),
    })),
  };
}

/** `--cluster`: every member's client URLs, as etcdctl expands them. */
export async function clusterEndpoints(conn: Connection): Promise<string[]> {
  const list = await memberList(conn);
  return [...new Set(list.members.flatMap((m) => m.clientURLs))];
}
