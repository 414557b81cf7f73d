import { listAlarms } from '../etcd/alarms.js';
import type { Connection } from '../etcd/endpoints.js';
import { memberList } from '../etcd/members.js';
import { observeMembers, type DefragTarget } from '../defrag/observe.js';
import { planDefrag, type MemberSpace } from '../defrag/plan.js';
import { compileRule, type Rule } from '../defrag/rule.js';
import { DEFAULT_MIN_DB_BYTES, DEFAULT_MIN_FRAGMENTATION, thresholdRule } from '../defrag/thresholds.js';
import { runDefrag } from '../defrag/run.js';
import { CORE, isAlreadyExists, isConflict, OPERATOR, type KubeObject } from '../kube/client.js';
import { parseDuration } from '../util/duration.js';
import { recordEvent, setConditions, type OperatorContext } from './context.js';
import type { OperatorMetrics } from './metrics.js';

export const DEFRAG_INTERVAL_MS = 11 * 60_000;
export const DEGRADED_AFTER = 3;
const STATE_NS = 'openshift-etcd-operator';
const STATE_NAME = 'etcd-defrag-controller';

/** The knobs on etcds/cluster spec.unsupportedConfigOverrides.defrag (OpenShift has no API field for them). */
export interface DefragSettings {
  disabled: boolean;
  minFragmentation: number;
  minDbBytes: number;
  intervalMs: number;
  /** A new value asks for a run now, as forceRedeploymentReason asks for a rollout. */
  request: string;
}

export function defragSettings(etcd: KubeObject): DefragSettings {
  const o = etcd.spec?.unsupportedConfigOverrides?.defrag ?? {};
  let intervalMs = DEFRAG_INTERVAL_MS;
  if (typeof o.interval === 'string') {
    try {
      intervalMs = parseDuration(o.interval, 'defrag.interval');
    } catch {
      // keep the default; an invalid override must not stop the controller
    }
  }
  return {
    disabled: o.disabled === true,
    minFragmentation: typeof o.minFragmentationPercent === 'number' ? o.minFragmentationPercent / 100 : DEFAULT_MIN_FRAGMENTATION,
    minDbBytes: typeof o.minDBSizeBytes === 'number' ? o.minDBSizeBytes : DEFAULT_MIN_DB_BYTES,
    intervalMs,
    request: typeof o.request === 'string' ? o.request : '',
  };
}

/** The members the controller defragments: fragmented enough, and big enough for the quota. */
export function defragRule(s: DefragSettings): Rule {
  return compileRule(thresholdRule(s.minFragmentation, s.minDbBytes));
}

/** What the controller remembers between runs, kept in a ConfigMap so a new leader knows it too. */
interface DefragState {
  consecutiveFailures: number;
  lastAttempt?: string;
  lastSuccess?: string;
  lastRequest: string;
}

async function readState(ctx: OperatorContext): Promise<{ state: DefragState; obj?: KubeObject }> {
  const obj = await ctx.kube.getOrUndefined(CORE('configmaps', STATE_NS), STATE_NAME);
  const d = obj?.data ?? {};
  return {
    obj,
    state: { consecutiveFailures: Number(d.consecutiveFailures ?? 0), lastAttempt: d.lastAttempt, lastSuccess: d.lastSuccess, lastRequest: d.lastRequest ?? '' },
  };
}

async function writeState(ctx: OperatorContext, state: DefragState, prev?: KubeObject): Promise<void> {
  const data: Record<string, string> = { consecutiveFailures: String(state.consecutiveFailures), lastRequest: state.lastRequest };
  if (state.lastAttempt) data.lastAttempt = state.lastAttempt;
  if (state.lastSuccess) data.lastSuccess = state.lastSuccess;
  const body: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: STATE_NAME, namespace: STATE_NS }, data };
  try {
    if (prev) await ctx.kube.update(CORE('configmaps', STATE_NS), { ...body, metadata: { ...body.metadata, resourceVersion: prev.metadata.resourceVersion } });
    else await ctx.kube.create(CORE('configmaps', STATE_NS), body);
  } catch (err) {
    if (!isConflict(err) && !isAlreadyExists(err)) throw err;
  }
}

export async function defragTargets(conn: Connection): Promise<DefragTarget[]> {
  const list = await memberList(conn);
  return list.members.filter((m) => m.clientURLs[0]).map((m) => ({ endpoint: m.clientURLs[0], name: m.name || undefined }));
}

/**
 * OpenShift's defrag controller: about every 11 minutes (or on request), when every member is
 * healthy, defragment the members at least 45 % fragmented and at least 100 MiB (or 10 % of the
 * quota, when that is less: a small quota must not reach NOSPACE under the floor), one at a time
 * with the leader last, waiting for each to answer and catch up. Degraded only after three
 * consecutive partial failures.
 */
export async function syncDefrag(ctx: OperatorContext, conn: Connection, metrics?: OperatorMetrics): Promise<void> {
  const etcd = await ctx.kube.get(OPERATOR('etcds'), 'cluster');
  const s = defragSettings(etcd);
  const involved = { kind: 'Etcd', name: 'cluster', apiVersion: 'operator.openshift.io/v1' };
  if (s.disabled) {
    await setConditions(ctx, OPERATOR('etcds'), 'cluster', [{ type: 'DefragControllerDisabled', status: 'True', reason: 'AsExpected', message: 'the defrag controller is switched off (spec.unsupportedConfigOverrides.defrag.disabled)' }]);
    return;
  }
  const { state, obj } = await readState(ctx);
  const requested = s.request !== '' && s.request !== state.lastRequest;
  const due = !state.lastAttempt || ctx.now().getTime() - Date.parse(state.lastAttempt) >= s.intervalMs;
  await setConditions(ctx, OPERATOR('etcds'), 'cluster', [{ type: 'DefragControllerDisabled', status: 'False', reason: 'AsExpected', message: '' }]);
  if (!requested && !due) return;
  const targets = await defragTargets(conn);
  const { members } = await observeMembers(conn, targets);
  metrics?.observeSpace(members);
  if (members.length < 2) return; // OpenShift disables it on single-node clusters: there is no one to serve meanwhile
  if (members.some((m) => !m.healthy)) {
    ctx.log(`defrag: skipped, not every member is healthy (${members.filter((m) => !m.healthy).map((m) => m.name ?? m.endpoint).join(', ')})`);
    return;
  }
  const plan = planDefrag(members, { rule: defragRule(s) });
  state.lastAttempt = ctx.now().toISOString();
  state.lastRequest = s.request;
  if (plan.steps.length === 0) {
    await writeState(ctx, state, obj);
    return;
  }
  await recordEvent(ctx, involved, 'DefragControllerDefragmentAttempt', `Attempting defrag on members: ${plan.steps.map((x) => x.member.name ?? x.member.endpoint).join(', ')}`);
  const results = await runDefrag(conn, targets, plan, { commandTimeoutMs: 5 * 60_000, catchUpTimeoutMs: 60_000, minWaitMs: 0, onEvent: (l) => ctx.log(`defrag: ${l}`) });
  for (const r of results) {
    if (r.error) await recordEvent(ctx, involved, 'DefragControllerDefragmentFailed', `Failed to defrag member ${r.name ?? r.endpoint} (${r.memberId}): ${r.error}`, 'Warning');
    else {
      metrics?.observeDefrag(r.name ?? r.endpoint, (r.defragMs ?? 0) / 1000, ctx.now());
      await recordEvent(ctx, involved, 'DefragControllerDefragmentSuccess', `Successfully defragmented member ${r.name ?? r.endpoint} (${r.memberId}): ${r.before.dbSize} → ${r.after?.dbSize ?? '?'} bytes`);
    }
  }
  const failed = results.some((r) => r.error) || results.length < plan.steps.length;
  state.consecutiveFailures = failed ? state.consecutiveFailures + 1 : 0;
  if (!failed) state.lastSuccess = ctx.now().toISOString();
  await writeState(ctx, state, obj);
  const degraded = state.consecutiveFailures >= DEGRADED_AFTER;
  await setConditions(ctx, OPERATOR('etcds'), 'cluster', [
    degraded
      ? { type: 'DefragControllerDegraded', status: 'True', reason: 'DefragFailed', message: `degraded after ${state.consecutiveFailures} attempts at defragmenting all etcd members` }
      : { type: 'DefragControllerDegraded', status: 'False', reason: 'AsExpected', message: '' },
  ]);
}

/** Space and alarm figures for the operator's metrics, on every replica. */
export async function observeSpace(conn: Connection, metrics: OperatorMetrics): Promise<MemberSpace[]> {
  const targets = await defragTargets(conn);
  const { members } = await observeMembers(conn, targets);
  metrics.observeSpace(members);
  const alarms = await listAlarms(conn).catch(() => []);
  metrics.observeAlarms(alarms.some((a) => a.alarm === 'NOSPACE'));
  return members;
}
