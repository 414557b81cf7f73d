import { decodeEncryptionConfiguration } from '../../encryption/index.js';
import { CONFIG, CORE, type KubeClient } from '../../kube/client.js';
import type { Condition } from '../../kube/conditions.js';
import { KUBE_APISERVER } from '../rollout/operands.js';
import { COMPONENTS, groupResource } from './components.js';
import { KEY_NAMESPACE, LABEL_COMPONENT, parseKeySecrets, type EncryptionKey } from './keys.js';
import { decodeConfigSecret } from './observe.js';
import { deployedState, type KeyRef } from './state.js';

/** What `etcd-ops encryption status` shows per component; never key material. */
export interface ComponentReport {
  component: string;
  resources: string[];
  mode: string;
  writeKey: string;
  readKeys: string[];
  keys: Array<{ name: string; mode: string; created?: string; migratedResources: string[]; migratedTimestamp?: string }>;
  migration?: { writeKey: number; current?: string; done: string[]; objects: number; completed: boolean; resources?: Record<string, { objects: number; done: boolean }> };
  conditions: Condition[];
}

export interface EncryptionReport {
  mode: string;
  latestRevision: number;
  nodes: Array<{ nodeName: string; currentRevision: number; targetRevision?: number }>;
  /** kubeapiservers/cluster's NodeInstallerProgressing: where the revision rollout stands. */
  nodeInstaller?: Condition;
  components: ComponentReport[];
}

const keyName = (r: KeyRef) => (r.mode === 'identity' ? 'identity' : `${r.mode}:${r.id}`);

export async function encryptionReport(kube: KubeClient): Promise<EncryptionReport> {
  const apiserver = await kube.get(CONFIG('apiservers'), 'cluster');
  const mode = apiserver.spec?.encryption?.type || 'identity';
  const kas = await kube.get(KUBE_APISERVER.operator, 'cluster');
  const latest: number = kas.status?.latestAvailableRevision ?? 0;
  const config = latest ? decodeConfigSecret(await kube.getOrUndefined(CORE('secrets', KUBE_APISERVER.namespace), `encryption-config-${latest}`)) : undefined;
  const { items } = await kube.list(CORE('secrets', KEY_NAMESPACE), { labelSelector: LABEL_COMPONENT });
  const components: ComponentReport[] = [];
  for (const c of COMPONENTS) {
    const op = await kube.get(c.operator, 'cluster');
    const keys: EncryptionKey[] = parseKeySecrets(c.name, items);
    const dep = config ? deployedState(decodeEncryptionConfiguration(config), c) : undefined;
    const cm = await kube.getOrUndefined(CORE('configmaps', 'openshift-kube-apiserver-operator'), `encryption-migration-${c.name}`);
    let migration: ComponentReport['migration'];
    try {
      migration = cm?.data?.progress ? JSON.parse(cm.data.progress) : undefined;
    } catch {
      migration = undefined;
    }
    components.push({
      component: c.name,
      resources: c.resources.map(groupResource),
      mode,
      writeKey: dep ? keyName(dep.write) : 'identity',
      readKeys: dep ? dep.read.map(keyName) : [],
      keys: keys.map((k) => ({
        name: k.secretName,
        mode: k.mode,
        created: items.find((i) => i.metadata.name === k.secretName)?.metadata.creationTimestamp,
        migratedResources: k.migratedResources,
        migratedTimestamp: k.migratedTimestamp?.toISOString(),
      })),
      migration: migration && {
        writeKey: migration.writeKey,
        current: migration.current,
        done: migration.done,
        objects: migration.objects,
        completed: migration.completed,
        ...(migration.resources ? { resources: Object.fromEntries(Object.entries(migration.resources as Record<string, { objects: number; done: boolean }>).map(([r, v]) => [r, { objects: v.objects, done: v.done }])) } : {}),
      },
      conditions: (op.status?.conditions ?? []).filter((x: { type: string }) => /Encrypt/.test(x.type)),
    });
  }
  const nodeInstaller = (kas.status?.conditions ?? []).find((x: Condition) => x.type === 'NodeInstallerProgressing');
  return { mode, latestRevision: latest, nodes: kas.status?.nodeStatuses ?? [], ...(nodeInstaller ? { nodeInstaller } : {}), components };
}
