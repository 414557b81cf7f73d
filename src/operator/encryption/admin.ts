/**
 * What an admin asks of encryption, from the CLI (`etcd-ops encryption enable|disable|rotate`) or
 * the console: a mode on `apiservers.config.openshift.io/cluster`, or new keys now through each
 * component's `spec.unsupportedConfigOverrides.encryption.reason`. The operator does the rest;
 * `settled` and `encryptionProgress` read how far it got from an `encryptionReport`.
 */
import { CONFIG, type KubeClient } from '../../kube/client.js';
import { UserError } from '../../util/errors.js';
import { COMPONENTS } from './components.js';
import type { ComponentReport, EncryptionReport } from './report.js';

export const ENCRYPTION_MODES = ['aescbc', 'aesgcm', 'secretbox'] as const;

/** Refuses a mode the API server does not know, before anything is asked of it. */
export function checkEncryptionMode(mode: string, o: { identity: boolean } = { identity: true }): void {
  if (!(o.identity && mode === 'identity') && !(ENCRYPTION_MODES as readonly string[]).includes(mode)) {
    throw new UserError(`unknown encryption mode "${mode}": use aescbc, aesgcm or secretbox (or \`etcd-ops encryption disable\`)`);
  }
}

/** Sets spec.encryption.type: one of ENCRYPTION_MODES, or identity to decrypt everything again. */
export async function setEncryptionMode(kube: KubeClient, mode: string): Promise<string> {
  checkEncryptionMode(mode);
  await kube.mergePatch(CONFIG('apiservers'), 'cluster', { spec: { encryption: { type: mode } } });
  return `apiserver.config.openshift.io/cluster: spec.encryption.type is now ${mode}`;
}

export interface RotationRequest {
  reason: string;
  /** Each component's newest key id before the request: rotated once every component is past it. */
  before: Map<string, number>;
}

/** Asks every component for a new key now, instead of at the weekly rotation. */
export async function requestKeyRotation(kube: KubeClient, before: EncryptionReport, now = new Date()): Promise<RotationRequest> {
  if (before.mode === 'identity') throw new UserError('encryption is not enabled: there is no key to rotate; run `etcd-ops encryption enable aescbc` first');
  const reason = `rotate-${now.toISOString()}`;
  for (const c of COMPONENTS) {
    await kube.mergePatch(c.operator, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { reason } } } });
  }
  return { reason, before: new Map(before.components.map((c) => [c.component, latestKeyId(c)])) };
}

export function latestKeyId(c: ComponentReport): number {
  return Math.max(0, ...c.keys.map((k) => Number(/-(\d+)$/.exec(k.name)?.[1] ?? 0)));
}

/**
 * The latest key has the wanted mode, it writes, every resource was migrated to it, and the
 * operator has said so in the Encrypted condition.
 */
export function settled(c: ComponentReport, mode: string): boolean {
  const reason = c.conditions.find((x) => x.type === 'Encrypted')?.reason;
  const latest = c.keys.find((k) => Number(/-(\d+)$/.exec(k.name)?.[1]) === latestKeyId(c));
  if (!latest) return mode === 'identity' && reason === 'EncryptionDisabled';
  const writes = latest.mode === 'identity' ? c.writeKey === 'identity' : c.writeKey === `${latest.mode}:${latestKeyId(c)}`;
  const said = reason === (mode === 'identity' ? 'DecryptionCompleted' : 'EncryptionCompleted');
  return latest.mode === mode && writes && said && c.resources.every((r) => latest.migratedResources.includes(r));
}

/** Every component settled in the report's mode. */
export function modeSettled(r: EncryptionReport, mode = r.mode): boolean {
  return r.components.every((c) => settled(c, mode));
}

/** Every component has a key newer than before the request, settled. */
export function rotationDone(req: Pick<RotationRequest, 'before'>, r: EncryptionReport): boolean {
  return r.components.every((c) => latestKeyId(c) > (req.before.get(c.component) ?? 0) && settled(c, r.mode));
}

/** A rough share of the work done: key made, rolled out, then resources migrated. */
export function encryptionProgress(r: EncryptionReport, mode = r.mode): { pct: number; stage: string } {
  let sum = 0;
  let stage = '';
  for (const c of r.components) {
    if (settled(c, mode)) {
      sum += 100;
      continue;
    }
    const latest = latestKeyId(c);
    const writes = c.writeKey.endsWith(`:${latest}`) || (mode === 'identity' && c.writeKey === 'identity');
    if (!latest) sum += 0;
    else if (!writes) sum += 25;
    else sum += 50 + (50 * (c.migration?.done.length ?? 0)) / c.resources.length;
    if (!stage) {
      const installing = r.nodes.some((n) => n.currentRevision !== r.latestRevision || n.targetRevision);
      stage = installing
        ? `rolling out revision ${r.latestRevision}: ${r.nodes.map((n) => `${n.nodeName}@${n.currentRevision}`).join(' ')}`
        : c.migration && !c.migration.completed
          ? `migrating ${c.migration.current ?? c.resources.join(', ')} (${c.migration.objects} objects rewritten)`
          : `${c.component}: ${c.conditions.find((x) => x.type === 'Encrypted')?.message ?? 'waiting for the operator'}`;
    }
  }
  return { pct: Math.round(sum / r.components.length), stage: stage || 'done' };
}
