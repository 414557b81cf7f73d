/**
 * Is a rollout in progress? cluster-backup.sh asks the API server for each ClusterOperator's
 * Progressing condition. We read the operator objects straight from etcd (stored as JSON at
 * /kubernetes.io/operator.openshift.io/<resource>/cluster), so the check works even when no
 * API server answers. Any condition whose type ends in "Progressing" with status "True"
 * (NodeInstallerProgressing, EncryptionMigrationControllerProgressing, ...) counts.
 */

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

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface OperatorState {
  key: string;
  resource: string;
  /** As the ClusterOperator is named: kube-apiserver, etcd, authentication. */
  name: string;
  progressing: Condition[];
  /** Set when the object cannot be read: the check cannot vouch for this operator. */
  unreadable?: string;
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
  const conditions = (obj as { status?: { conditions?: unknown } })?.status?.conditions;
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
