import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPONENTS } from '../src/operator/encryption/components.js';
import { encryptedCondition, migrationProgressing } from '../src/operator/encryption/conditions.js';
import { needsNewKey, type EncryptionKey, type Mode } from '../src/operator/encryption/keys.js';
import { desiredState, keysToPrune, providersFor, type DeployedState } from '../src/operator/encryption/state.js';
import { nodeInstallerProgressing, planInstalls } from '../src/operator/rollout/progress.js';

const kas = COMPONENTS[0];
const DAY = 24 * 3600 * 1000;
const now = new Date('2026-06-30T12:00:00Z');

function key(id: number, mode: Mode = 'aescbc', migrated = true, migratedAgoMs = DAY, externalReason?: string): EncryptionKey {
  return {
    component: kas.name,
    id,
    secretName: `encryption-key-${kas.name}-${id}`,
    mode,
    key: Buffer.alloc(32, id),
    externalReason,
    migratedTimestamp: migrated ? new Date(now.getTime() - migratedAgoMs) : undefined,
    migratedResources: migrated ? ['secrets', 'configmaps'] : [],
  };
}
const running = (write: DeployedState['write'], ...read: DeployedState['read']): DeployedState => ({ write, read });

describe('the key controller decides as library-go does', () => {
  const week = 7 * DAY;
  it('makes the first key only when encryption is wanted', () => {
    assert.equal(needsNewKey([], kas, 'identity', '', week, now), undefined);
    assert.equal(needsNewKey([], kas, 'aescbc', '', week, now), 'key-does-not-exist');
  });
  it('waits while the latest key is not migrated, whatever else changed', () => {
    assert.equal(needsNewKey([key(1, 'aescbc', false)], kas, 'aesgcm', 'x', week, now), undefined);
  });
  it('makes a key when the mode changes, the reason changes, or a week has passed', () => {
    assert.equal(needsNewKey([key(1)], kas, 'aesgcm', '', week, now), 'encryption-mode-changed');
    assert.equal(needsNewKey([key(1)], kas, 'aescbc', 'rotate-now', week, now), 'external-reason-changed');
    assert.equal(needsNewKey([key(1, 'aescbc', true, 8 * DAY)], kas, 'aescbc', '', week, now), 'rotation-interval-has-passed');
    assert.equal(needsNewKey([key(1, 'aescbc', true, 6 * DAY)], kas, 'aescbc', '', week, now), undefined);
    assert.equal(needsNewKey([key(1), key(2, 'identity')], kas, 'identity', '', week, now), undefined, 'identity stays off');
  });
});

describe('the state controller rolls keys out in two phases', () => {
  it('adds a new key as a read key until every API server can read with it, then promotes it', () => {
    const keys = [key(1), key(2, 'aescbc', false)];
    const phase1 = desiredState(keys, kas, [running({ mode: 'aescbc', id: 1 }), running({ mode: 'aescbc', id: 1 })]);
    assert.equal(phase1.write?.id, 1);
    assert.deepEqual(phase1.read.map((k) => k.id), [2]);
    const half = desiredState(keys, kas, [running({ mode: 'aescbc', id: 1 }, { mode: 'aescbc', id: 2 }), running({ mode: 'aescbc', id: 1 })]);
    assert.equal(half.write?.id, 1, 'one server cannot read key 2 yet');
    const phase2 = desiredState(keys, kas, [running({ mode: 'aescbc', id: 1 }, { mode: 'aescbc', id: 2 }), running({ mode: 'aescbc', id: 1 }, { mode: 'aescbc', id: 2 })]);
    assert.equal(phase2.write?.id, 2);
    assert.deepEqual(phase2.read.map((k) => k.id), [1], 'the old key stays readable until the data moved');
  });
  it('keeps one previous key after migration, and all keys back to the last migrated one before', () => {
    const everywhere = (...ids: number[]) => [running({ mode: 'aescbc', id: ids[0] }, ...ids.slice(1).map((id) => ({ mode: 'aescbc' as Mode, id })))];
    assert.deepEqual(desiredState([key(1), key(2), key(3)], kas, everywhere(3, 2, 1)).read.map((k) => k.id), [2]);
    assert.deepEqual(desiredState([key(1, 'aescbc', false), key(2, 'aescbc', false), key(3, 'aescbc', false)], kas, everywhere(3, 2, 1)).read.map((k) => k.id), [2, 1]);
    assert.deepEqual(desiredState([key(1), key(2, 'aescbc', false), key(3, 'aescbc', false)], kas, everywhere(3, 2, 1)).read.map((k) => k.id), [2, 1]);
  });
  it('writes identity first when decrypting, and needs no rollout for it', () => {
    const d = desiredState([key(1), key(2, 'identity', false)], kas, [running({ mode: 'aescbc', id: 1 })]);
    assert.equal(d.write?.mode, 'identity');
    assert.deepEqual(providersFor(d), [{ identity: {} }, { aescbc: { keys: [{ name: '1', secret: Buffer.alloc(32, 1).toString('base64') }] } }]);
  });
  it('orders providers as write key, read keys newest first, then identity', () => {
    const p = providersFor({ write: key(3), read: [key(2, 'aesgcm'), key(1, 'secretbox')] });
    assert.deepEqual(p.map((x) => Object.keys(x)[0]), ['aescbc', 'aesgcm', 'secretbox', 'identity']);
    assert.deepEqual(p.map((x) => (Object.values(x)[0] as { keys?: Array<{ name: string }> }).keys?.[0]?.name), ['3', '2', '1', undefined]);
  });
  it('prunes only keys beyond the ten newest that no configuration uses', () => {
    const keys = Array.from({ length: 13 }, (_, i) => key(i + 1));
    const d = desiredState(keys, kas, [running({ mode: 'aescbc', id: 13 }, { mode: 'aescbc', id: 12 }, { mode: 'aescbc', id: 2 })]);
    assert.deepEqual(keysToPrune(keys, d, [running({ mode: 'aescbc', id: 13 }, { mode: 'aescbc', id: 2 })]).map((k) => k.id), [1, 3]);
    assert.deepEqual(keysToPrune(keys.slice(0, 10), d, []), []);
  });
});

describe('conditions read exactly as OpenShift writes them', () => {
  it('Encrypted', () => {
    assert.deepEqual(encryptedCondition(kas, 'identity', []), { type: 'Encrypted', status: 'False', reason: 'EncryptionDisabled', message: 'Encryption is not enabled' });
    assert.deepEqual(encryptedCondition(kas, 'aescbc', [key(1)]), { type: 'Encrypted', status: 'True', reason: 'EncryptionCompleted', message: 'All resources encrypted: secrets, configmaps' });
    assert.equal(encryptedCondition(kas, 'aescbc', [key(1, 'aescbc', false)], { keyId: 1, current: 'secrets', done: [], objects: 9 }).message, 'Resource secrets is being encrypted');
    assert.equal(encryptedCondition(kas, 'aesgcm', [key(1)]).reason, 'EncryptionInProgress');
    assert.equal(encryptedCondition(kas, 'identity', [key(1), key(2, 'identity', false)]).message, 'Encryption mode set to identity and decryption is not finished');
    assert.equal(encryptedCondition(kas, 'identity', [key(1), key(2, 'identity')]).message, 'Encryption mode set to identity and everything is decrypted');
    assert.match(migrationProgressing(kas, { keyId: 2, done: ['secrets'], objects: 40 }).message ?? '', /^migrating resources to a new write key: \[core\/secrets core\/configmaps\] \(1 of 2 resources done, 40 objects rewritten\)$/);
  });
  it('NodeInstallerProgressing', () => {
    assert.deepEqual(nodeInstallerProgressing([1, 2, 3].map((i) => ({ nodeName: `m${i}`, currentRevision: 7 })), 7), { status: 'False', reason: 'AllNodesAtLatestRevision', message: '3 nodes are at revision 7' });
    assert.equal(nodeInstallerProgressing([{ nodeName: 'a', currentRevision: 6 }, { nodeName: 'b', currentRevision: 7 }, { nodeName: 'c', currentRevision: 7 }], 7).message, '1 node is at revision 6; 2 nodes are at revision 7');
    assert.equal(nodeInstallerProgressing([{ nodeName: 'a', currentRevision: 6 }], 7).message, '1 node is at revision 6; 0 nodes have achieved new revision 7');
  });
});

describe('the installer hands out revisions', () => {
  const pods = (rev: number, ready = true) => ['a', 'b', 'c'].map((n) => ({ nodeName: n, revision: rev, ready }));
  it('one node at a time, and only while healthy', () => {
    const nodes = ['a', 'b', 'c'].map((n) => ({ nodeName: n, currentRevision: 1 }));
    assert.deepEqual(planInstalls(nodes, pods(1), 2, 1, true).started, ['a']);
    assert.deepEqual(planInstalls(nodes, pods(1), 2, 1, false).started, []);
    const busy = planInstalls([{ nodeName: 'a', currentRevision: 1, targetRevision: 2 }, ...nodes.slice(1)], pods(1), 2, 1, true);
    assert.deepEqual(busy.started, [], 'a is still installing');
  });
  it('records a node as current once its mirror pod is ready at the target', () => {
    const plan = planInstalls([{ nodeName: 'a', currentRevision: 1, targetRevision: 2 }], [{ nodeName: 'a', revision: 2, ready: true }], 2, 1, true);
    assert.deepEqual(plan.finished, ['a']);
    assert.deepEqual(plan.nodes[0], { nodeName: 'a', currentRevision: 2, targetRevision: 0 });
    assert.deepEqual(planInstalls([{ nodeName: 'a', currentRevision: 1, targetRevision: 2 }], [{ nodeName: 'a', revision: 2, ready: false }], 2, 1, true).finished, []);
  });
});
