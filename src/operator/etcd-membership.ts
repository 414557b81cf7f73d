import type { Connection } from '../etcd/endpoints.js';
import { endpointHealths } from '../etcd/health.js';
import { memberList } from '../etcd/members.js';
import { CORE, OPERATOR } from '../kube/client.js';
import { recordEvent, setConditions, type OperatorContext } from './context.js';
import { peerURLOfPod, planMembership, type EtcdNodeView, type MemberView, type MembershipAction } from './membership-plan.js';
import { ETCD } from './rollout/operands.js';

/** Members, with each started voter's own health answer. */
export async function observeMemberViews(conn: Connection): Promise<MemberView[]> {
  const list = await memberList(conn);
  const voters = list.members.filter((m) => !m.isLearner && m.clientURLs.length > 0);
  const health = await endpointHealths(conn, voters.map((m) => m.clientURLs[0]!));
  return list.members.map((m) => ({
    id: m.id,
    name: m.name,
    peerURLs: m.peerURLs,
    started: m.name !== '' && m.clientURLs.length > 0,
    isLearner: m.isLearner,
    healthy: !m.isLearner && m.clientURLs.length > 0 && Boolean(health.find((h) => h.endpoint === m.clientURLs[0])?.health),
  }));
}

/** Each node's etcd mirror pod, with the revision the installer targets on it. */
export async function observeEtcdNodes(ctx: OperatorContext): Promise<EtcdNodeView[]> {
  const [pods, op] = await Promise.all([ctx.kube.list(CORE('pods', ETCD.namespace)), ctx.kube.get(OPERATOR('etcds'), 'cluster')]);
  const statuses: Array<{ nodeName: string; targetRevision?: number }> = op.status?.nodeStatuses ?? [];
  return pods.items
    .filter((p) => p.metadata.name === `${ETCD.mirrorPrefix}-${p.spec?.nodeName}`)
    .map((p) => ({
      nodeName: p.spec.nodeName,
      peerURL: peerURLOfPod(p.spec?.containers ?? []),
      revision: Number(p.metadata.labels?.revision ?? 0),
      ready: (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'),
      targetRevision: statuses.find((s) => s.nodeName === p.spec.nodeName)?.targetRevision ?? 0,
    }));
}

/**
 * The cluster member controller: one membership change per sync (see planMembership), through
 * the etcd API, and an event for each. `existingNodes` lists the hosts that still exist when
 * that is known; members of others are removed.
 */
export async function syncMembership(ctx: OperatorContext, conn: Connection, existingNodes?: () => Promise<string[] | undefined>): Promise<MembershipAction> {
  const [members, nodes, existing] = await Promise.all([observeMemberViews(conn), observeEtcdNodes(ctx), existingNodes?.()]);
  const action = planMembership(members, nodes, existing);
  const involved = { kind: 'Etcd', name: 'cluster', apiVersion: 'operator.openshift.io/v1' };
  switch (action.kind) {
    case 'add-learner': {
      await ctx.etcd.cluster.memberAdd({ peerURLs: [action.peerURL], isLearner: true });
      await recordEvent(ctx, involved, 'MemberAddAsLearner', `successfully added new member ${action.peerURL} for node ${action.node} as a learner`);
      break;
    }
    case 'promote': {
      try {
        await ctx.etcd.cluster.memberPromote({ ID: action.id.toString() });
      } catch (err) {
        // etcd refuses a learner that has not caught up with the leader yet.
        if (/in sync with leader|not ready/i.test((err as Error).message)) return { kind: 'wait', why: `learner ${action.name} is catching up` };
        throw err;
      }
      await recordEvent(ctx, involved, 'MemberPromoted', `successfully promoted learner member ${action.name}`);
      break;
    }
    case 'remove': {
      await ctx.etcd.cluster.memberRemove({ ID: action.id.toString() });
      await recordEvent(ctx, involved, 'MemberRemove', `removed member ${action.name}: ${action.why}`, 'Warning');
      break;
    }
    default:
      break;
  }
  const growing = action.kind === 'add-learner' || action.kind === 'promote' || (action.kind === 'wait' && members.some((m) => m.isLearner || !m.started));
  await setConditions(ctx, OPERATOR('etcds'), 'cluster', [
    {
      type: 'ClusterMemberControllerProgressing',
      status: growing || action.kind === 'remove' ? 'True' : 'False',
      reason: growing ? 'MembershipChanging' : action.kind === 'remove' ? 'MemberRemoved' : 'AsExpected',
      message: describe(action),
    },
  ]);
  return action;
}

function describe(a: MembershipAction): string {
  switch (a.kind) {
    case 'add-learner':
      return `added ${a.node} (${a.peerURL}) as a learner`;
    case 'promote':
      return `promoted learner ${a.name}`;
    case 'remove':
      return `removed member ${a.name}: ${a.why}`;
    default:
      return a.why;
  }
}
