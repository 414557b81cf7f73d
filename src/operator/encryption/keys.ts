import type { KubeObject } from '../../kube/client.js';
import { groupResource, type Component } from './components.js';

/** Annotations, label and data key exactly as OpenShift's key secrets carry them. */
export const PREFIX = 'encryption.apiserver.operator.openshift.io';
export const ANN_MODE = `${PREFIX}/mode`;
export const ANN_INTERNAL_REASON = `${PREFIX}/internal-reason`;
export const ANN_EXTERNAL_REASON = `${PREFIX}/external-reason`;
export const ANN_MIGRATED_TIMESTAMP = `${PREFIX}/migrated-timestamp`;
export const ANN_MIGRATED_RESOURCES = `${PREFIX}/migrated-resources`;
export const LABEL_COMPONENT = `${PREFIX}/component`;
export const DATA_KEY = `${PREFIX}-key`;
export const FINALIZER = `${PREFIX}/deletion-protection`;
export const KEY_NAMESPACE = 'openshift-config-managed';

export const MODES = ['identity', 'aescbc', 'aesgcm', 'secretbox'] as const;
export type Mode = (typeof MODES)[number];

export interface EncryptionKey {
  component: string;
  id: number;
  secretName: string;
  mode: Mode;
  /** The raw key bytes. Never logged, never put in a status or an event. */
  key: Buffer;
  internalReason?: string;
  externalReason?: string;
  migratedTimestamp?: Date;
  migratedResources: string[];
}

export const keySecretName = (component: string, id: number) => `encryption-key-${component}-${id}`;

/** Reads the component's key secrets; anything malformed is skipped (and named by the caller). */
export function parseKeySecrets(component: string, secrets: KubeObject[]): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  for (const s of secrets) {
    const name: string = s.metadata.name;
    const m = new RegExp(`^encryption-key-${component}-(\\d+)$`).exec(name);
    if (!m || s.metadata.labels?.[LABEL_COMPONENT] !== component) continue;
    const ann = s.metadata.annotations ?? {};
    const mode = ann[ANN_MODE];
    if (!MODES.includes(mode)) continue;
    const data = s.data?.[DATA_KEY];
    let migratedResources: string[] = [];
    try {
      const parsed = JSON.parse(ann[ANN_MIGRATED_RESOURCES] ?? '{}');
      migratedResources = (parsed.resources ?? []).map((r: { Group: string; Resource: string }) => groupResource({ group: r.Group, resource: r.Resource }));
    } catch {
      migratedResources = [];
    }
    keys.push({
      component,
      id: Number(m[1]),
      secretName: name,
      mode,
      key: Buffer.from(data ?? '', 'base64'),
      internalReason: ann[ANN_INTERNAL_REASON],
      externalReason: ann[ANN_EXTERNAL_REASON],
      migratedTimestamp: ann[ANN_MIGRATED_TIMESTAMP] ? new Date(ann[ANN_MIGRATED_TIMESTAMP]) : undefined,
      migratedResources,
    });
  }
  return keys.sort((a, b) => a.id - b.id);
}

export function isMigrated(key: EncryptionKey, component: Component): boolean {
  return component.resources.every((r) => key.migratedResources.includes(groupResource(r)));
}

/**
 * library-go's needsNewKey: a key when there is none (and encryption is wanted), when the mode
 * changed, when the admin's reason changed, or when the rotation interval passed since the
 * latest key was migrated. Never while the latest key is not yet migrated: that back-pressure
 * keeps at most one migration in flight.
 */
export function needsNewKey(
  keys: EncryptionKey[],
  component: Component,
  mode: Mode,
  externalReason: string,
  rotationIntervalMs: number,
  now: Date,
): string | undefined {
  const latest = keys[keys.length - 1];
  if (!latest) return mode === 'identity' ? undefined : 'key-does-not-exist';
  if (!isMigrated(latest, component)) return undefined;
  if (latest.mode !== mode) return 'encryption-mode-changed';
  if (latest.mode === 'identity') return undefined;
  if (externalReason && latest.externalReason !== externalReason) return 'external-reason-changed';
  const since = latest.migratedTimestamp ? now.getTime() - latest.migratedTimestamp.getTime() : 0;
  return since > rotationIntervalMs ? 'rotation-interval-has-passed' : undefined;
}

/** The key secret as OpenShift writes it; identity keys hold 16 zero bytes. */
export function keySecret(component: string, id: number, mode: Mode, key: Buffer, internalReason: string, externalReason: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: keySecretName(component, id),
      namespace: KEY_NAMESPACE,
      labels: { [LABEL_COMPONENT]: component },
      annotations: {
        [ANN_MODE]: mode,
        [ANN_INTERNAL_REASON]: internalReason,
        ...(externalReason ? { [ANN_EXTERNAL_REASON]: externalReason } : {}),
      },
      finalizers: [FINALIZER],
    },
    type: 'Opaque',
    data: { [DATA_KEY]: key.toString('base64') },
  };
}

/** The annotation value the migration controller sets: {"resources":[{"Group":"","Resource":"secrets"}]}. */
export function migratedResourcesAnnotation(component: Component): string {
  return JSON.stringify({ resources: component.resources.map((r) => ({ Group: r.group, Resource: r.resource })) });
}
