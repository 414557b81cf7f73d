import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdFlag, initialClusterFor, standingOf } from '../src/etcd/discover.js';
import { discoverFirst } from '../src/etcd/pod.js';
import type { Member } from '../src/etcd/members.js';
import { peerURLOfPod, planMembership, type EtcdNodeView, type MemberView } from '../src/operator/membership-plan.js';
import { planInstalls } from '../src/operator/rollout/progress.js';
import { bumpAmount, DEFAULT_BUMP } from '../src/recovery/bump-default.js';
import { pickBackup, RESTORE_USAGE, UsageError } from '../src/recovery/backup-dir.js';
import { compareStores, objectRefOf, type StoredObject } from '../src/recovery/stale-state.js';
import { formatStaleState } from '../src/recovery/stale-report-text.js';
import { expandVars } from '../src/staticpod/pod.js';
import { UserError } from '../src/util/errors.js';
import { tempDir } from './helpers/cleanup.js';

const member = (id: bigint, name: string, peer: string, o: Partial<MemberView> = {}): MemberView => ({ id, name, peerURLs: [peer], started: name !== '', isLearner: false, healthy: name !== '', ...o });
const node = (nodeName: string, peerURL: string, o: Partial<EtcdNodeView> = {}): EtcdNodeView => ({ nodeName, peerURL, revision: 2, ready: false, targetRevision: 2, ...o });

describe('the cluster member controller (pure plan)', () => {
  const m0 = member(1n, 'master-0', 'http://p0');

  it('adds a node whose pod runs its target revision and waits, as a learner; one at a time', () => {
    const nodes = [node('master-0', 'http://p0', { ready: true, targetRevision: 0 }), node('master-2', 'http://p2'), node('master-1', 'http://p1')];
    assert.deepEqual(planMembership([m0], nodes), { kind: 'add-learner', node: 'master-1', peerURL: 'http://p1' });
    const added = [m0, member(2n, '', 'http://p1', { isLearner: true, started: false, healthy: false })];
    assert.equal(planMembership(added, nodes).kind, 'wait', 'an added member that has not started blocks the next');
    const started = [m0, member(2n, 'master-1', 'http://p1', { isLearner: true, healthy: false })];
    assert.deepEqual(planMembership(started, nodes), { kind: 'promote', id: 2n, name: 'master-1' });
    const promoted = [m0, member(2n, 'master-1', 'http://p1')];
    assert.deepEqual(planMembership(promoted, nodes), { kind: 'add-learner', node: 'master-2', peerURL: 'http://p2' });
  });

  it('leaves stale mirror pods alone (from before a restore: ready, or not at their target revision)', () => {
    assert.equal(planMembership([m0], [node('master-1', 'http://p1', { ready: true })]).kind, 'none');
    assert.equal(planMembership([m0], [node('master-1', 'http://p1', { revision: 1, targetRevision: 2 })]).kind, 'none');
    assert.equal(planMembership([m0], [node('master-1', 'http://p1', { targetRevision: 0 })]).kind, 'none');
    assert.equal(planMembership([m0], [node('master-1', undefined as unknown as string)]).kind, 'none');
  });

  it('changes nothing while a voting member is unhealthy', () => {
    const sick = [m0, member(3n, 'master-2', 'http://p2', { healthy: false })];
    const a = planMembership(sick, [node('master-1', 'http://p1')]);
    assert.equal(a.kind, 'wait');
    assert.match((a as { why: string }).why, /master-2 is not healthy/);
  });

  it('removes the dead member of a node that is gone once a new node waits, only when the rest are healthy', () => {
    const three = [m0, member(2n, 'master-1', 'http://p1', { healthy: false }), member(3n, 'master-2', 'http://p2')];
    const newcomer = [node('master-3', 'http://p3')];
    assert.deepEqual(planMembership(three, newcomer, ['master-0', 'master-2', 'master-3']), { kind: 'remove', id: 2n, name: 'master-1', why: 'its node master-1 is gone' });
    const twoSick = [m0, member(2n, 'master-1', 'http://p1', { healthy: false }), member(3n, 'master-2', 'http://p2', { healthy: false })];
    assert.equal(planMembership(twoSick, newcomer, ['master-0', 'master-2', 'master-3']).kind, 'wait', 'removing master-1 would leave an unhealthy master-2 beside master-0');
    assert.equal(planMembership(three, newcomer, ['master-0', 'master-1', 'master-2', 'master-3']).kind, 'wait', 'nothing is added while master-1 is unhealthy');
  });

  it('never removes a member because its Node is late to register (a cluster coming up)', () => {
    const booting = [m0, member(2n, 'master-1', 'http://p1', { healthy: false }), member(3n, 'master-2', 'http://p2')];
    const pods = [node('master-0', 'http://p0', { ready: true }), node('master-1', 'http://p1', { revision: 1, targetRevision: 1 }), node('master-2', 'http://p2', { ready: true })];
    assert.equal(planMembership(booting, pods, ['master-0', 'master-2']).kind, 'wait');
    assert.equal(planMembership(booting, [], ['master-0', 'master-2']).kind, 'wait');
    const healthyButUnregistered = [m0, member(2n, 'master-1', 'http://p1'), member(3n, 'master-2', 'http://p2')];
    assert.equal(planMembership(healthyButUnregistered, [node('master-3', 'http://p3')], ['master-0', 'master-2', 'master-3']).kind, 'add-learner', 'a member that answers is never removed');
  });

  it('reads the peer URL from an etcd pod, whatever the command looks like', () => {
    const wrapped = discoverFirst(['/usr/bin/etcd'], ['--name=$(NODE_NAME)', '--initial-advertise-peer-urls=http://127.0.0.1:2380'], ['http://127.0.0.1:3379']);
    assert.equal(peerURLOfPod([{ name: 'etcd', ...wrapped }]), 'http://127.0.0.1:2380');
    assert.equal(peerURLOfPod([{ name: 'etcd', command: ['etcd'], env: [{ name: 'ETCD_INITIAL_ADVERTISE_PEER_URLS', value: 'https://10.0.0.2:2380' }] }]), 'https://10.0.0.2:2380');
  });
});

describe('the installer goes by Node objects when there are any', () => {
  const pods = (rev: number, ...names: string[]) => names.map((nodeName) => ({ nodeName, revision: rev, ready: true }));
  it('drops a deleted node, adds a new one, and gives no target to a NotReady node (and takes back one it had)', () => {
    const statuses = [
      { nodeName: 'master-0', currentRevision: 2 },
      { nodeName: 'master-1', currentRevision: 1, targetRevision: 2 },
      { nodeName: 'master-2', currentRevision: 1 },
    ];
    const nodes = [
      { name: 'master-0', ready: true },
      { name: 'master-1', ready: false },
      { name: 'master-3', ready: true },
    ];
    const plan = planInstalls(statuses, pods(2, 'master-0'), 2, 1, true, nodes);
    assert.deepEqual(plan.removed, ['master-2']);
    assert.deepEqual(plan.nodes, [
      { nodeName: 'master-0', currentRevision: 2 },
      { nodeName: 'master-1', currentRevision: 1, targetRevision: 0 },
      { nodeName: 'master-3', currentRevision: 0, targetRevision: 2 },
    ]);
    assert.deepEqual(plan.started, ['master-3'], 'the lost master-1 does not hold the rollout of master-3');
    assert.deepEqual(planInstalls(statuses, pods(2, 'master-0'), 2, 1, true).nodes.map((n) => n.nodeName), ['master-0', 'master-1', 'master-2'], 'without Nodes, as before');
  });
});

describe('a joining member discovers its cluster first (etcd-discover)', () => {
  const list = (...ms: Array<[bigint, string, string, boolean]>): Member[] => ms.map(([id, name, peer, learner]) => ({ id, name, peerURLs: [peer], clientURLs: name ? ['http://c'] : [], isLearner: learner }));

  it('starts with every member, itself named, once the cluster lists it', () => {
    const self = { name: 'master-1', peerURL: 'http://p1' };
    assert.equal(initialClusterFor(list([1n, 'master-0', 'http://p0', false]), self), undefined);
    assert.equal(initialClusterFor(list([1n, 'master-0', 'http://p0', false], [0xabn, '', 'http://p1', true]), self), 'master-0=http://p0,master-1=http://p1');
    assert.equal(initialClusterFor(list([1n, 'master-0', 'http://p0', false], [0xabn, '', 'http://p1', true], [0xcdn, '', 'http://p2', true]), self), 'master-0=http://p0,master-1=http://p1,unstarted-cd=http://p2');
    assert.equal(standingOf(undefined, self), 'unknown');
    assert.equal(standingOf(list([1n, 'master-0', 'http://p0', false]), self), 'absent');
    assert.equal(standingOf(list([2n, '', 'http://p1', true]), self), 'unstarted');
    assert.equal(standingOf(list([2n, 'master-1', 'http://p1', false]), self), 'started');
  });

  it("reads etcd's own flags (--f=v, --f v, the last one, else ETCD_*)", () => {
    const argv = ['/usr/bin/etcd', '--name=a', '--data-dir', '/d', '--initial-cluster=x', '--initial-cluster=y'];
    assert.equal(etcdFlag(argv, {}, 'name'), 'a');
    assert.equal(etcdFlag(argv, {}, 'data-dir'), '/d');
    assert.equal(etcdFlag(argv, {}, 'initial-cluster'), 'y');
    assert.equal(etcdFlag(argv, { ETCD_PEER_CERT_FILE: '/c' }, 'peer-cert-file'), '/c');
  });

  it('the wrapper survives the kubelet\'s $(VAR) expansion and execs etcd with what discovery printed last', () => {
    const w = discoverFirst(['/bin/echo'], ['--name=$(NODE_NAME)', '--initial-cluster=all'], ['http://127.0.0.1:1']);
    const env = { NODE_NAME: 'master-1' };
    const argv = [...w.command, ...w.args].map((a) => expandVars(a, env));
    assert.equal(argv[2], w.command[2], 'the script is not touched by $(VAR) expansion');
    // Stand in for etcd-discover with a script that prints a flag: the shell appends it last.
    const dir = tempDir('etcd-ops-discover-');
    const fake = join(dir, 'discover.sh');
    writeFileSync(fake, '#!/bin/sh\necho --initial-cluster=discovered\n', { mode: 0o755 });
    const script = argv[2]!.replace(/extra=\$\( .*? "\$@" \)/, `extra=$( ${fake} )`);
    const r = spawnSync(argv[0]!, [argv[1]!, script, ...argv.slice(3)], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '--name=master-1 --initial-cluster=all --initial-cluster=discovered');
  });
});

describe('the restore bump default', () => {
  it('is 1.2 x the highest readable revision, rounded down, else one billion', () => {
    assert.deepEqual(bumpAmount([{ path: 'a', revision: 1000n }, { path: 'b', revision: 1234n }, { path: 'c', error: 'damaged' }]), { amount: 1480n, from: { path: 'b', revision: 1234n } });
    assert.deepEqual(bumpAmount([{ path: 'c', error: 'damaged' }]), { amount: DEFAULT_BUMP });
    assert.deepEqual(bumpAmount([]), { amount: 1_000_000_000n });
    assert.equal(bumpAmount([{ path: 'big', revision: 9_000_000_000_000_000_000n / 2n }]).amount, 5_400_000_000_000_000_000n, 'exact above 2^53');
  });
});

describe('the backup folder, as cluster-restore.sh picks it', () => {
  it('prints the usage for a missing or bad argument, and picks the newest pair in version order', () => {
    assert.throws(() => pickBackup(undefined), UsageError);
    assert.throws(() => pickBackup('/nonexistent/backup'), (e) => e instanceof UsageError && /is not a directory/.test(e.message));
    assert.match(RESTORE_USAGE, /^Path to the directory containing backup files is required: \.\/cluster-restore\.sh <path-to-backup>\nThe backup directory is expected to be contain two files:\n {8}1\. etcd snapshot\n {8}2\. A copy of the Static POD resources at the time of backup$/);
    const dir = tempDir('etcd-ops-pick-');
    assert.throws(() => pickBackup(dir), (e) => e instanceof UserError && e.message === `etcd snapshot ${dir}/snapshot_*.db does not exist`);
    mkdirSync(join(dir, 'sub'));
    for (const n of ['snapshot_2026-06-30_061502.db', 'snapshot_2026-07-01_000000.db', 'static_kuberesources_2026-06-30_061502.tar.gz', 'static_kuberesources_2026-07-01_000000.tar.gz', 'notes.txt']) writeFileSync(join(dir, n), '');
    assert.deepEqual(pickBackup(dir), { dir, snapshot: join(dir, 'snapshot_2026-07-01_000000.db'), bundle: join(dir, 'static_kuberesources_2026-07-01_000000.tar.gz') });
  });
});

describe('the stale-state report (4.10.7)', () => {
  const obj = (key: string, rev: number, value: unknown = {}): StoredObject => ({ key, modRevision: BigInt(rev), value: Buffer.from(JSON.stringify(value)) });
  const decode = (_k: string, v: Buffer) => (v[0] === 0x7b ? JSON.parse(v.toString()) : undefined);

  it('names objects from their keys, whatever the layout', () => {
    assert.deepEqual(objectRefOf('/kubernetes.io/secrets/ns/s'), { namespace: 'ns', name: 's' });
    assert.deepEqual(objectRefOf('/kubernetes.io/persistentvolumes/pv-1'), { name: 'pv-1' });
    assert.deepEqual(objectRefOf('/kubernetes.io/volumeattachments/va-1'), { name: 'va-1' });
    assert.deepEqual(objectRefOf('/kubernetes.io/operator.openshift.io/etcds/cluster'), { name: 'cluster' });
    assert.deepEqual(objectRefOf('/registry/services/specs/default/kubernetes'), { namespace: 'default', name: 'kubernetes' });
    assert.deepEqual(objectRefOf('/openshift.io/oauth/accesstokens/sha256~x'), { name: 'sha256~x' });
    assert.deepEqual(objectRefOf('/openshift.io/routes/ns/r'), { namespace: 'ns', name: 'r' });
    assert.equal(objectRefOf('election/etcd-ops-operator/1'), undefined);
  });

  it('sorts changes into revert, lose and resurrect, and flags volumes, credentials and local device paths', () => {
    const backup = [
      obj('/kubernetes.io/configmaps/a/same', 5),
      obj('/kubernetes.io/configmaps/a/changed', 6),
      obj('/kubernetes.io/configmaps/a/deleted', 7),
      obj('/kubernetes.io/persistentvolumes/local-pv', 8, { spec: { local: { path: '/dev/sdb' } } }),
      obj('/kubernetes.io/secrets/a/token', 9, { type: 'kubernetes.io/service-account-token' }),
      obj('/kubernetes.io/secrets/a/plain', 10, { type: 'Opaque' }),
      obj('compact_rev_key', 11),
    ];
    const current = [
      obj('/kubernetes.io/configmaps/a/same', 5),
      obj('/kubernetes.io/configmaps/a/changed', 20),
      obj('/kubernetes.io/configmaps/a/new', 21),
      obj('/kubernetes.io/persistentvolumes/local-pv', 22, { spec: { local: { path: '/dev/sdc' } } }),
      obj('/kubernetes.io/persistentvolumeclaims/a/claim', 23),
      obj('/kubernetes.io/volumeattachments/va', 24),
      obj('/kubernetes.io/secrets/a/token', 25, { type: 'kubernetes.io/service-account-token' }),
      obj('/kubernetes.io/secrets/a/plain', 26, { type: 'Opaque' }),
      { key: '/kubernetes.io/secrets/a/sealed', modRevision: 27n, value: Buffer.from('k8s:enc:aescbc:v1:1:xxxx') },
    ];
    const r = compareStores({ source: 'b', revision: 11n, objects: backup, decode }, { source: 'c', revision: 27n, objects: current, decode });
    const cm = r.resources.find((x) => x.resource === 'configmaps')!;
    assert.deepEqual(cm, { resource: 'configmaps', revert: [{ namespace: 'a', name: 'changed' }], lose: [{ namespace: 'a', name: 'new' }], resurrect: [{ namespace: 'a', name: 'deleted' }] });
    const risks = r.risks.map((x) => `${x.kind} ${x.resource} ${x.object.name} ${x.change}`).sort();
    assert.deepEqual(risks, [
      'credentials secrets sealed lose',
      'credentials secrets token revert',
      'local-volume persistentvolumes local-pv revert',
      'storage persistentvolumeclaims claim lose',
      'storage persistentvolumes local-pv revert',
      'storage volumeattachments.storage.k8s.io va lose',
    ]);
    assert.equal(r.unreadable, 1, 'the sealed secret could not be read');
    const text = formatStaleState(r, 'title');
    assert.match(text, /^configmaps:\n {2}revert {4}1: a\/changed\n {2}lose {6}1: a\/new\n {2}resurrect 1: a\/deleted$/m);
    assert.match(text, /local-pv \(revert\): the backup has it on \/dev\/sdb, the cluster now on \/dev\/sdc/);
  });
});
