/**
 * Is a rollout in progress? cluster-backup.sh asks the API server for each ClusterOperator's
 * Progressing condition. We read the operator objects straight from etcd (stored as JSON at
 * /kubernetes.io/operator.openshift.io/<resource>/cluster), so the check works even when no
 * API server answers. Any condition whose type ends in "Progressing" with status "True"
 * (NodeInstallerProgressing, EncryptionMigrationControllerProgressing, ...) counts.
 */

import type { Condition } from '../kube/conditions.js';

export const OPERATOR_PREFIX = '/kubernetes.io/operator.openshift.io/';

/** The ClusterOperator names the objects belong to, in the order cluster-backup.sh checks them. */
const OPERATOR_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['kubeapiservers', 'kube-apiserver'],
  ['kubecontrollermanagers', 'kube-controller-manager'],
  ['kubeschedulers', 'kube-scheduler'],
  ['etcds', 'etcd'],
  ['openshiftapiservers', 'openshift-apiserver'],
  ['authentications', 'authentication'],
];

/** Operators that roll static pods out by revision on every control-plane node. */
const STATIC_POD_OPERATORS = ['kubeapiservers', 'etcds'];

export interface OperatorState {
  key: string;
  resource: string;
  /** As the ClusterOperator is named: kube-apiserver, etcd, authentication. */
  name: string;
  progressing: Condition[];
  /** Set when the object cannot be read: the check cannot vouch for this operator. */
  unreadable?: string;
  /** Static pod operators: the newest revision and where each node stands. */
  latestAvailableRevision?: number;
  nodes?: Array<{ nodeName: string; currentRevision: number; targetRevision?: number }>;
}

export function operatorName(resource: string): string {
  return OPERATOR_NAMES.find(([r]) => r === resource)?.[1] ?? resource.replace(/s$/, '');
}

/** The resource of an operator object key, or undefined for anything else under the prefix. */
export function operatorResource(key: string): string | undefined {
  if (!key.startsWith(OPERATOR_PREFIX)) return undefined;
  const m = /^([a-z0-9-]+)\/cluster$/.exec(key.slice(OPERATOR_PREFIX.length));
  return m?.[1];
}

export function parseOperatorObject(key: string, value: Buffer): OperatorState | undefined {
  const resource = operatorResource(key);
  if (resource === undefined) return undefined;
  const state: OperatorState = { key, resource, name: operatorName(resource), progressing: [] };
  let obj: unknown;
  try {
    obj = JSON.parse(value.toString('utf8'));
  } catch {
    state.unreadable = value.subarray(0, 4).toString('latin1') === 'k8s\0' ? 'it is stored as protobuf, not JSON' : 'it is not JSON';
    return state;
  }
  const status = (obj as { status?: { conditions?: unknown; latestAvailableRevision?: unknown; nodeStatuses?: unknown } })?.status;
  if (typeof status?.latestAvailableRevision === 'number') state.latestAvailableRevision = status.latestAvailableRevision;
  if (Array.isArray(status?.nodeStatuses)) {
    state.nodes = (status.nodeStatuses as Array<{ nodeName?: unknown; currentRevision?: unknown; targetRevision?: unknown }>)
      .filter((n) => typeof n?.nodeName === 'string')
      .map((n) => ({
        nodeName: n.nodeName as string,
        currentRevision: typeof n.currentRevision === 'number' ? n.currentRevision : 0,
        ...(typeof n.targetRevision === 'number' && n.targetRevision > 0 ? { targetRevision: n.targetRevision } : {}),
      }));
  }
  const conditions = status?.conditions;
  if (conditions === undefined || conditions === null) return state;
  if (!Array.isArray(conditions)) {
    state.unreadable = 'its status.conditions is not a list';
    return state;
  }
  for (const c of conditions as Array<Partial<Condition>>) {
    if (typeof c?.type === 'string' && c.type.endsWith('Progressing') && c.status === 'True') {
      state.progressing.push({ type: c.type, status: c.status, reason: c.reason, message: c.message });
    }
  }
  return state;
}

/** Known operators first, in the script's order, then the rest by name. */
export function sortOperators(states: OperatorState[]): OperatorState[] {
  const rank = (s: OperatorState) => {
    const i = OPERATOR_NAMES.findIndex(([r]) => r === s.resource);
    return i < 0 ? OPERATOR_NAMES.length : i;
  };
  return [...states].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** cluster-backup.sh's refusal, word for word (two spaces before "Aborting!" included). */
export function progressingMessage(name: string): string {
  return `Currently the ${name} operator is progressing. A reliable backup requires that a rollout is not in progress.  Aborting!`;
}

/** The first reason to refuse a backup, or undefined when no rollout is in progress. */
export function refusal(states: OperatorState[]): string | undefined {
  for (const s of sortOperators(states)) {
    if (s.unreadable) {
      return `Could not find the status of the ${s.name} operator: ${s.key}: ${s.unreadable}. Pass the --force flag to skip checks.`;
    }
    if (s.progressing.length) return progressingMessage(s.name);
  }
  return undefined;
}

/**
 * What `up` still waits for, or undefined once the control plane has settled: no operator
 * progressing, and every static pod operator has seen each of `nodeNames` run its latest revision.
 * Right after the hosts start, the operator has not yet heard from every node, and a backup taken
 * then would be refused a moment later.
 */
export function unsettled(states: OperatorState[], nodeNames: string[]): string | undefined {
  const why = refusal(states);
  if (why) return why;
  for (const s of sortOperators(states)) {
    const latest = s.latestAvailableRevision;
    if (!latest) {
      if (STATIC_POD_OPERATORS.includes(s.resource)) return `the ${s.name} operator has not published its first revision yet`;
      continue;
    }
    const behind = nodeNames.filter((n) => {
      const node = s.nodes?.find((x) => x.nodeName === n);
      return !node || node.currentRevision !== latest || node.targetRevision !== undefined;
    });
    if (behind.length) return `the ${s.name} operator has not yet seen ${behind.join(', ')} at revision ${latest}`;
  }
  return undefined;
}
