import type { Condition } from '../../kube/conditions.js';
import { groupResource, migrationName, type Component } from './components.js';
import { isMigrated, type EncryptionKey, type Mode } from './keys.js';

/** Where a running migration stands, from the durable progress record. */
export interface MigrationView {
  keyId: number;
  /** The group-resource being rewritten now, if any. */
  current?: string;
  done: string[];
  objects: number;
}

/** The Encrypted condition exactly as OpenShift's condition controller reports it. */
export function encryptedCondition(component: Component, mode: Mode, keys: EncryptionKey[], migration?: MigrationView): Condition {
  const latest = keys[keys.length - 1];
  const resources = component.resources.map(groupResource);
  if (mode === 'identity') {
    if (!latest) return { type: 'Encrypted', status: 'False', reason: 'EncryptionDisabled', message: 'Encryption is not enabled' };
    if (latest.mode === 'identity' && isMigrated(latest, component)) {
      return { type: 'Encrypted', status: 'False', reason: 'DecryptionCompleted', message: 'Encryption mode set to identity and everything is decrypted' };
    }
    return { type: 'Encrypted', status: 'False', reason: 'DecryptionInProgress', message: 'Encryption mode set to identity and decryption is not finished' };
  }
  if (latest && latest.mode === mode && isMigrated(latest, component)) {
    return { type: 'Encrypted', status: 'True', reason: 'EncryptionCompleted', message: `All resources encrypted: ${resources.join(', ')}` };
  }
  let message = 'Encryption is ongoing';
  if (migration?.current) message = `Resource ${migration.current} is being encrypted`;
  else if (latest && latest.mode === mode) {
    const pending = resources.find((r) => !latest.migratedResources.includes(r));
    if (pending) message = `Resource ${pending} is not encrypted`;
  }
  return { type: 'Encrypted', status: 'False', reason: 'EncryptionInProgress', message };
}

/** EncryptionMigrationControllerProgressing, with how far the migration has got. */
export function migrationProgressing(component: Component, migration?: MigrationView): Condition {
  if (!migration) return { type: 'EncryptionMigrationControllerProgressing', status: 'False', reason: 'AsExpected', message: '' };
  const names = component.resources.map(migrationName);
  const doneCount = migration.done.length;
  return {
    type: 'EncryptionMigrationControllerProgressing',
    status: 'True',
    reason: 'Migrating',
    message: `migrating resources to a new write key: [${names.join(' ')}] (${doneCount} of ${names.length} resources done, ${migration.objects} objects rewritten)`,
  };
}
