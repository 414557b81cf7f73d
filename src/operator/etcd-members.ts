import type { Connection } from '../etcd/endpoints.js';
import { endpointHealths } from '../etcd/health.js';
import { memberList } from '../etcd/members.js';
import { OPERATOR } from '../kube/client.js';
import { setConditions, type OperatorContext } from './context.js';

export interface MembersView {
  /** Voting members. */
  total: number;
  healthy: string[];
  unhealthy: string[];
  /** Learners and members that were added but never started: the cluster is still growing. */
  joining: string[];
}

/**
 * Each voting member's own answer: the cluster is healthy only when every voter commits a
 * proposal. Learners serve no linearizable reads, so they are counted as joining, not asked.
 */
export async function observeMembers(conn: Connection): Promise<MembersView> {
  const list = await memberList(conn);
  const voters = list.members.filter((m) => !m.isLearner && m.clientURLs.length > 0 && m.name !== '');
  const joining = list.members.filter((m) => !voters.includes(m)).map((m) => m.name || m.peerURLs.join(','));
  const eps = voters.map((m) => ({ name: m.name || m.id.toString(16), ep: m.clientURLs[0]! }));
  const health = await endpointHealths(conn, eps.map((e) => e.ep));
  const healthy = eps.filter((e) => health.find((h) => h.endpoint === e.ep)?.health).map((e) => e.name);
  return { total: eps.length, healthy, unhealthy: eps.filter((e) => !healthy.includes(e.name)).map((e) => e.name), joining };
}

/** EtcdMembersAvailable, as cluster-etcd-operator reports it. */
export async function syncEtcdMembers(ctx: OperatorContext, conn: Connection): Promise<MembersView> {
  const v = await observeMembers(conn);
  const quorate = v.healthy.length > v.total / 2;
  const message =
    v.unhealthy.length === 0
      ? `${v.total} members are available`
      : `${v.healthy.length} of ${v.total} members are available, ${v.unhealthy.map((n) => `${n} is unhealthy`).join(', ')}`;
  await setConditions(ctx, OPERATOR('etcds'), 'cluster', [
    { type: 'EtcdMembersAvailable', status: quorate ? 'True' : 'False', reason: quorate ? 'EtcdQuorate' : 'NoQuorum', message },
  ]);
  return v;
}
