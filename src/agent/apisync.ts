import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeApiserverRevision } from '../apiserver/pod.js';
import { ETCD_POD, etcdPod } from '../etcd/pod.js';
import { loadClusterFile } from '../home/cluster-file.js';
import { hostKubeconfigPath, hostPaths } from '../home/layout.js';
import { ApiError, CORE, isNotFound, KubeClient, OPERATOR, type KubeObject } from '../kube/client.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { installRevision, runningRevision } from '../staticpod/install.js';
import { parsePod } from '../staticpod/pod.js';
import type { AgentStatus } from './status.js';
import { HEARTBEAT_MS, heartbeat, type NodeIdentity } from './node.js';

const INSTALLABLE = [
  { operator: 'kubeapiservers', podPrefix: 'kube-apiserver-pod', namespace: 'openshift-kube-apiserver' },
  { operator: 'etcds', podPrefix: ETCD_POD, namespace: 'openshift-etcd' },
] as const;

/**
 * The agent's side of the control plane, as a kubelet plus OpenShift's installer pods:
 * it reports the static pods it runs as mirror pods, and installs the revision the operator
 * targets for this node. It works only through the API, so hosts could be separate machines.
 */
export class ApiSync {
  private client?: KubeClient;
  private readonly sent = new Map<string, string>();
  private installing = false;
  private lastHeartbeat = 0;

  constructor(
    private readonly home: string,
    private readonly host: string,
    private readonly status: () => AgentStatus | undefined,
    private readonly log: (line: string) => void,
    private readonly node?: NodeIdentity,
  ) {}

  private kube(): KubeClient | undefined {
    if (this.client) return this.client;
    const path = hostKubeconfigPath(this.home, this.host);
    if (!existsSync(path)) return undefined;
    this.client = new KubeClient(loadKubeconfig(path), 5000);
    return this.client;
  }

  close(): void {
    this.client?.close();
  }

  async sync(): Promise<void> {
    const kube = this.kube();
    if (!kube) return;
    if (this.node && Date.now() - this.lastHeartbeat >= HEARTBEAT_MS) {
      await heartbeat(kube, this.node);
      this.lastHeartbeat = Date.now();
    }
    await this.reportMirrorPods(kube);
    await this.install(kube);
  }

  private async reportMirrorPods(kube: KubeClient): Promise<void> {
    const st = this.status();
    if (!st) return;
    const p = hostPaths(this.home, this.host);
    for (const pod of st.pods) {
      let manifest;
      try {
        manifest = parsePod(readFileSync(join(p.manifests, pod.manifest), 'utf8'), pod.manifest);
      } catch {
        continue; // moved away since the status was written
      }
      const ready = pod.containers.every((c) => c.ready);
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: pod.name,
          namespace: pod.namespace,
          labels: manifest.metadata.labels ?? {},
          annotations: { ...(manifest.metadata.annotations ?? {}), 'kubernetes.io/config.mirror': pod.hash, 'kubernetes.io/config.source': 'file' },
        },
        // The containers as the manifest has them, as a kubelet's mirror pod does: the operator
        // reads a member's peer URL from them to add it to the cluster.
        spec: { nodeName: this.host, containers: manifest.spec.containers.map((c) => ({ name: c.name, image: c.image, command: c.command, args: c.args ?? [], env: c.env ?? [] })) },
        status: {
          phase: pod.containers.every((c) => c.state === 'Running') ? 'Running' : 'Pending',
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
          startTime: pod.containers[0]?.startedAt,
          containerStatuses: pod.containers.map((c) => ({
            name: c.name,
            ready: c.ready,
            restartCount: c.restarts,
            state: c.state === 'Running' ? { running: { startedAt: c.startedAt } } : { terminated: { exitCode: c.exitCode ?? 0, reason: c.reason ?? 'Error' } },
          })),
        },
      };
      const fingerprint = JSON.stringify(body);
      if (this.sent.get(pod.name) === fingerprint) continue;
      await this.upsert(kube, body);
      this.sent.set(pod.name, fingerprint);
    }
  }

  private async upsert(kube: KubeClient, body: KubeObject): Promise<void> {
    const ref = CORE('pods', body.metadata.namespace);
    const cur = await kube.getOrUndefined(ref, body.metadata.name);
    if (!cur) await kube.create(ref, body);
    else await kube.update(ref, { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata.resourceVersion } });
  }

  /** Installs the revision the operator set as this node's target, if the manifest runs another. */
  private async install(kube: KubeClient): Promise<void> {
    if (this.installing) return;
    this.installing = true;
    try {
      for (const item of INSTALLABLE) {
        const op = await kube.getOrUndefined(OPERATOR(item.operator), 'cluster');
        const node = (op?.status?.nodeStatuses ?? []).find((n: { nodeName: string }) => n.nodeName === this.host);
        const target: number = node?.targetRevision ?? 0;
        if (!target) continue;
        const p = hostPaths(this.home, this.host);
        if (runningRevision(p, item.podPrefix)?.revision === target) continue;
        await this.installOne(kube, item, target);
      }
    } finally {
      this.installing = false;
    }
  }

  private async installOne(kube: KubeClient, item: (typeof INSTALLABLE)[number], rev: number): Promise<void> {
    try {
      await installFromApi(kube, this.home, this.host, item, rev);
      this.log(`installed revision ${rev} of ${item.podPrefix}`);
    } catch (err) {
      if (err instanceof ApiError && isNotFound(err)) this.log(`revision ${rev} of ${item.podPrefix} is not complete in the API yet: ${err.message}`);
      else throw err;
    }
  }
}

/**
 * What an installer pod does for one revision on one host: read the revision's inputs from the
 * API (config-<rev>, encryption-config-<rev>), render the pod for this host, install it. A
 * missing input is the API's NotFound, thrown.
 */
export async function installFromApi(kube: KubeClient, home: string, hostName: string, item: { podPrefix: string; namespace: string }, rev: number): Promise<void> {
  const cluster = loadClusterFile(home);
  const host = cluster.hosts.find((h) => h.name === hostName)!;
  const p = hostPaths(home, hostName);
  const config = await kube.get(CORE('configmaps', item.namespace), `config-${rev}`);
  const reason = config.data?.forceRedeploymentReason ?? '';
  if (item.podPrefix === ETCD_POD) {
    // Past the first revision a member joins a running cluster: with an empty data dir it
    // waits until the operator has added it, and starts with the cluster's membership.
    const pod = etcdPod({ home, cluster, host, revision: rev, initialClusterState: 'existing' });
    if (reason) pod.metadata.annotations = { ...pod.metadata.annotations, 'operator.openshift.io/force-redeployment-reason': reason };
    installRevision(p, ETCD_POD, rev, pod, [{ path: 'configmaps/config/forceRedeploymentReason', data: reason }]);
  } else {
    const secret = await kube.get(CORE('secrets', item.namespace), `encryption-config-${rev}`);
    const encryptionConfig = Buffer.from(secret.data?.['encryption-config'] ?? '', 'base64').toString('utf8');
    const r = kubeApiserverRevision({ home, cluster, host, revision: rev, encryptionConfig });
    if (reason) r.pod.metadata.annotations = { ...r.pod.metadata.annotations, 'operator.openshift.io/force-redeployment-reason': reason };
    installRevision(p, item.podPrefix, rev, r.pod, r.files);
  }
}

export const INSTALLABLE_PODS = INSTALLABLE;
