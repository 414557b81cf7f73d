/**
 * Rules of one kind beyond what every kind gets (strategy.ts): defaults on create and validation
 * on create and update, pure, keyed by group-resource so strategy.ts does not grow a branch each.
 */
import type { KubeObject } from '../storage/store.js';
import type { FieldError } from './status.js';
import { backupConfigRules, etcdBackupRules } from './backups.js';
import { persistentVolumeClaimRules, persistentVolumeRules, volumeAttachmentRules } from './volumes.js';

export interface KindRules {
  /** Fills defaults of a new object (after the system fields, before validation). */
  defaults?(o: KubeObject): void;
  /** Errors of the object as it would be stored, on create and on update. */
  validate?(o: KubeObject): FieldError[];
  /** Errors of a change (immutable fields), on update only; `cur` is the stored object. */
  validateUpdate?(o: KubeObject, cur: KubeObject): FieldError[];
}

const RULES: Record<string, KindRules> = {
  persistentvolumes: persistentVolumeRules,
  persistentvolumeclaims: persistentVolumeClaimRules,
  'volumeattachments.storage.k8s.io': volumeAttachmentRules,
  'backups.config.openshift.io': backupConfigRules,
  'etcdbackups.operator.openshift.io': etcdBackupRules,
};

export function rulesOf(groupResource: string): KindRules {
  return RULES[groupResource] ?? {};
}
