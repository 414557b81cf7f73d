/**
 * The agent's Node, as a kubelet keeps it: registered once with the host's address and the port of
 * its kubelet API, Ready while the agent runs, and a heartbeat Lease in kube-node-lease renewed
 * every 10 s. When the heartbeat stops, the operator's node lifecycle controller marks the Node
 * NotReady (its status Unknown), as kube-controller-manager does.
 */
import { release, type } from 'node:os';
import { CORE, isNotFound, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.js';
import { KUBE_VERSION } from '../kube/version.js';
import { version } from '../version.js';

export const LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_DURATION_SECONDS = 40;
export const HEARTBEAT_MS = 10_000;
export const LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: LEASE_NAMESPACE };

export interface NodeIdentity {
  name: string;
  address: string;
  kubeletPort: number;
}

/** Go's metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function readyCondition(now: Date, prior?: { status?: string; lastTransitionTime?: string }): object {
  return {
    type: 'Ready',
    status: 'True',
    lastHeartbeatTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    lastTransitionTime: prior?.status === 'True' && prior.lastTransitionTime ? prior.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    reason: 'KubeletReady',
    message: 'kubelet is posting ready status',
  };
}

/** The Node this agent registers (pure): control-plane roles, its address, where its kubelet API is. */
export function desiredNode(id: NodeIdentity, now: Date, current?: KubeObject): KubeObject {
  const prior = (current?.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      ...(current?.metadata ?? {}),
      name: id.name,
      labels: {
        ...(current?.metadata.labels ?? {}),
        'kubernetes.io/hostname': id.name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/master': '',
        'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: current?.spec ?? {},
    status: {
      conditions: [readyCondition(now, prior)],
      addresses: [
        { type: 'InternalIP', address: id.address },
        { type: 'Hostname', address: id.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: id.kubeletPort } },
      nodeInfo: {
        kubeletVersion: KUBE_VERSION.gitVersion,
        kubeProxyVersion: '',
        containerRuntimeVersion: `etcd-ops://${version}`,
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
        osImage: 'etcd-ops host',
        kernelVersion: `${type()} ${release()}`.replace(/^Linux /, ''),
      },
    },
  };
}

/** True when the Node needs writing: not ours yet, not Ready, or its address or port changed. */
export function nodeNeedsUpdate(id: NodeIdentity, current: KubeObject | undefined): boolean {
  if (!current) return true;
  const ready = (current.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
  if (ready?.status !== 'True') return true;
  const addr = (current.status?.addresses ?? []).find((a: { type?: string }) => a.type === 'InternalIP')?.address;
  return addr !== id.address || current.status?.daemonEndpoints?.kubeletEndpoint?.Port !== id.kubeletPort;
}

/** One heartbeat: the Node registered and Ready, the Lease renewed. Idempotent. */
export async function heartbeat(kube: KubeClient, id: NodeIdentity, now = new Date()): Promise<void> {
  const nodes = CORE('nodes');
  const current = await kube.getOrUndefined(nodes, id.name);
  if (!current) await kube.create(nodes, desiredNode(id, now));
  else if (nodeNeedsUpdate(id, current)) await kube.update(nodes, desiredNode(id, now, current));
  const lease = await kube.getOrUndefined(LEASES, id.name).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  const spec = { holderIdentity: id.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now) };
  if (!lease) await kube.create(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: id.name, namespace: LEASE_NAMESPACE }, spec });
  else await kube.update(LEASES, { ...lease, spec: { ...lease.spec, ...spec } });
}
