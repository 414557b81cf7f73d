import { hostname, userInfo } from 'node:os';
import { CORE, type KubeClient } from '../kube/client.js';
import { OPERATOR_NAMESPACE } from '../operator/context.js';

export const CONSOLE_COMPONENT = 'etcd-ops-console';

/** Who acts through this console: the kubeconfig's user, and the local account that started it. */
export function consoleUser(kube: KubeClient): string {
  let local = 'unknown';
  try {
    local = `${userInfo().username}@${hostname()}`;
  } catch {
    // No passwd entry (a container's uid): the host name still says where.
  }
  return `${kube.user ?? 'kubeconfig user'} (${local})`;
}

/**
 * A Kubernetes Event for an action taken in the console, beside the operator's own events, so
 * `kubectl get events -n openshift-kube-apiserver-operator` shows who did what and when. The
 * message names no key material: actions carry modes, hosts and backup names only.
 */
export async function recordConsoleEvent(
  kube: KubeClient,
  user: string,
  involved: { kind: string; name: string; apiVersion?: string },
  reason: string,
  message: string,
  type: 'Normal' | 'Warning' = 'Normal',
): Promise<void> {
  const now = new Date().toISOString();
  await kube.create(CORE('events', OPERATOR_NAMESPACE), {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${involved.name}.`, namespace: OPERATOR_NAMESPACE },
    involvedObject: { ...involved, namespace: OPERATOR_NAMESPACE },
    reason,
    message: `${message} (by ${user})`,
    type,
    action: reason,
    source: { component: CONSOLE_COMPONENT, host: hostname() },
    reportingComponent: CONSOLE_COMPONENT,
    reportingInstance: user,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  });
}
