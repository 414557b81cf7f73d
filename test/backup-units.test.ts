import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupNames, backupStamp, latestSnapshotName, pairedName, parseBackupName } from '../src/backup/names.js';
import { EMPTY_REQUEST, GrpcFrameReader, decodeSnapshotResponse } from '../src/backup/grpc-frames.js';
import { operatorResource, parseOperatorObject, progressingMessage, refusal, unsettled } from '../src/backup/operators.js';
import { analyzeValues, encryptedPercent } from '../src/backup/analyze.js';
import { BackupKeys } from '../src/backup/keys.js';
import { AsyncBatchWriter, BatchWriter, RunFiles } from '../src/backup/files.js';
import { findRunningPods } from '../src/backup/static-pods.js';
import { parseEncryptionConfiguration } from '../src/encryption/index.js';
import { installRevision } from '../src/staticpod/install.js';
import { parsePod } from '../src/staticpod/pod.js';
import { UserError } from '../src/util/errors.js';
import { tempDir } from './helpers/cleanup.js';
import { assertOneLineError, runCli } from './helpers/cli.js';
import { makeDirs } from '../src/util/fsx.js';
import { varint } from './helpers/snapshots.js';

describe('backup file names (cluster-backup.sh)', () => {
  it('stamps with %F_%H%M%S and puts __POSSIBLY_DIRTY__ before the extension', () => {
    assert.equal(backupStamp(new Date(2026, 5, 30, 6, 15, 2)), '2026-06-30_061502');
    assert.deepEqual(backupNames('2026-06-30_061502', false), {
      stamp: '2026-06-30_061502',
      possiblyDirty: false,
      snapshot: 'snapshot_2026-06-30_061502.db',
      resources: 'static_kuberesources_2026-06-30_061502.tar.gz',
    });
    const dirty = backupNames('2026-06-30_061502', true);
    assert.equal(dirty.snapshot, 'snapshot_2026-06-30_061502__POSSIBLY_DIRTY__.db');
    assert.equal(dirty.resources, 'static_kuberesources_2026-06-30_061502__POSSIBLY_DIRTY__.tar.gz');
  });

  it('reads names back, pairs them, and picks the newest like ls -v', () => {
    assert.deepEqual(parseBackupName('/b/snapshot_2026-06-30_061502__POSSIBLY_DIRTY__.db'), { kind: 'snapshot', stamp: '2026-06-30_061502', possiblyDirty: true });
    assert.deepEqual(parseBackupName('static_kuberesources_2026-06-30_061502.tar.gz'), { kind: 'resources', stamp: '2026-06-30_061502', possiblyDirty: false });
    assert.equal(parseBackupName('snapshot.db'), undefined);
    assert.equal(pairedName('/x/snapshot_2026-06-30_061502.db'), 'static_kuberesources_2026-06-30_061502.tar.gz');
    assert.equal(pairedName('static_kuberesources_S__POSSIBLY_DIRTY__.tar.gz'), 'snapshot_S__POSSIBLY_DIRTY__.db');
    const names = ['snapshot_2026-06-30_061502.db', 'static_kuberesources_2027-01-01_000000.tar.gz', 'snapshot_2026-12-01_000000.db', 'snapshot_2026-07-01_000000.db', 'notes.txt'];
    assert.equal(latestSnapshotName(names), 'snapshot_2026-12-01_000000.db');
    assert.equal(latestSnapshotName(['notes.txt']), undefined);
  });
});

/** protobuf helpers for hand-made SnapshotResponses. */
const field = (no: number, wire: number, body: Buffer) => Buffer.concat([varint(BigInt((no << 3) | wire)), wire === 2 ? varint(BigInt(body.length)) : Buffer.alloc(0), body]);
const frame = (msg: Buffer) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
};

describe('gRPC framing and SnapshotResponse', () => {
  const header = Buffer.concat([field(1, 0, varint(0xcdf818194e3a8c32n)), field(2, 0, varint(0x8e9e05c52164694dn)), field(3, 0, varint(123456n)), field(4, 0, varint(7n))]);
  const blobs = [randomBytes(40_000), randomBytes(5), Buffer.alloc(0), randomBytes(32)];
  let remaining = blobs.reduce((n, b) => n + b.length, 0);
  const messages = blobs.map((blob, i) => {
    remaining -= blob.length;
    return Buffer.concat([i === 0 ? field(1, 2, header) : Buffer.alloc(0), field(2, 0, varint(BigInt(remaining))), field(99, 2, Buffer.from('ignored')), field(3, 2, blob)]);
  });
  const wire = Buffer.concat(messages.map(frame));

  it('reassembles messages however the bytes are cut', () => {
    for (const step of [1, 3, 7, 4096, 16384, wire.length]) {
      const r = new GrpcFrameReader();
      const got: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) got.push(...r.push(wire.subarray(i, i + step)));
      assert.equal(r.pending, 0);
      assert.deepEqual(got.map((m) => m.toString('hex')), messages.map((m) => m.toString('hex')), `step ${step}`);
    }
    assert.deepEqual(EMPTY_REQUEST, Buffer.from([0, 0, 0, 0, 0]));
  });

  it('decodes the fields etcd sends and skips unknown ones', () => {
    const first = decodeSnapshotResponse(messages[0]!);
    assert.deepEqual(first.header, { clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision: 123456n, raftTerm: 7n });
    assert.equal(first.remainingBytes, 37n);
    assert.ok(first.blob.equals(blobs[0]!));
    const last = decodeSnapshotResponse(messages[3]!);
    assert.equal(last.header, undefined);
    assert.equal(last.remainingBytes, 0n);
    assert.throws(() => decodeSnapshotResponse(Buffer.from([0x1a, 0x05, 1, 2])), /malformed SnapshotResponse.*runs past the end/);
  });

  it('refuses compressed and oversized messages', () => {
    assert.throws(() => new GrpcFrameReader().push(Buffer.from([1, 0, 0, 0, 1, 0])), /compressed/);
    assert.throws(() => new GrpcFrameReader().push(Buffer.from([0, 0x7f, 0, 0, 0])), /not an etcd snapshot stream/);
  });
});

describe('operator objects: is a rollout in progress?', () => {
  const key = '/kubernetes.io/operator.openshift.io/kubeapiservers/cluster';
  const obj = (conditions: unknown) => Buffer.from(JSON.stringify({ kind: 'KubeAPIServer', status: { conditions } }));

  it('counts any condition type ending in Progressing with status True', () => {
    const p = parseOperatorObject(key, obj([{ type: 'NodeInstallerProgressing', status: 'True', reason: 'x' }, { type: 'Degraded', status: 'True' }]))!;
    assert.equal(p.name, 'kube-apiserver');
    assert.deepEqual(p.progressing.map((c) => c.type), ['NodeInstallerProgressing']);
    assert.deepEqual(parseOperatorObject(key, obj([{ type: 'EncryptionMigrationControllerProgressing', status: 'False' }]))!.progressing, []);
    assert.deepEqual(parseOperatorObject(key, Buffer.from('{"kind":"KubeAPIServer"}'))!.progressing, []);
    assert.equal(operatorResource('/kubernetes.io/operator.openshift.io/etcds/other'), undefined);
    assert.equal(operatorResource('/kubernetes.io/operator.openshift.io/authentications/cluster'), 'authentications');
  });

  it("refuses with cluster-backup.sh's exact words, the script's operator order first", () => {
    assert.equal(progressingMessage('etcd'), 'Currently the etcd operator is progressing. A reliable backup requires that a rollout is not in progress.  Aborting!');
    const states = [
      parseOperatorObject('/kubernetes.io/operator.openshift.io/authentications/cluster', obj([{ type: 'APIServerDeploymentProgressing', status: 'True' }]))!,
      parseOperatorObject('/kubernetes.io/operator.openshift.io/etcds/cluster', obj([{ type: 'NodeInstallerProgressing', status: 'True' }]))!,
    ];
    assert.equal(refusal(states), progressingMessage('etcd'));
    assert.equal(refusal([states[0]!]), progressingMessage('authentication'));
    assert.equal(refusal([]), undefined);
    const unreadable = parseOperatorObject(key, Buffer.from('k8s\0\n\x02v1', 'latin1'))!;
    assert.match(refusal([unreadable])!, /^Could not find the status of the kube-apiserver operator: .*protobuf.*--force/);
  });

  it("calls the control plane settled only once every node runs each static pod operator's latest revision", () => {
    const nodes = ['master-0', 'master-1'];
    const state = (resource: string, status: unknown) => parseOperatorObject(`/kubernetes.io/operator.openshift.io/${resource}/cluster`, Buffer.from(JSON.stringify({ status })))!;
    const at = (rev: number, target?: number) => nodes.map((nodeName) => ({ nodeName, currentRevision: rev, ...(target ? { targetRevision: target } : {}) }));
    const done = state('etcds', { latestAvailableRevision: 2, nodeStatuses: at(2) });
    assert.equal(unsettled([done, state('authentications', {})], nodes), undefined, 'operators without revisions do not hold it up');
    assert.equal(unsettled([state('kubeapiservers', { latestAvailableRevision: 0 }), done], nodes), 'the kube-apiserver operator has not published its first revision yet');
    assert.equal(unsettled([state('kubeapiservers', { latestAvailableRevision: 3, nodeStatuses: [{ nodeName: 'master-0', currentRevision: 3 }] })], nodes), 'the kube-apiserver operator has not yet seen master-1 at revision 3');
    assert.equal(unsettled([state('etcds', { latestAvailableRevision: 3, nodeStatuses: at(3, 4) })], nodes), 'the etcd operator has not yet seen master-0, master-1 at revision 3');
    assert.equal(unsettled([state('etcds', { latestAvailableRevision: 2, nodeStatuses: at(2), conditions: [{ type: 'NodeInstallerProgressing', status: 'True' }] })], nodes), progressingMessage('etcd'));
  });
});

describe('what the values of a snapshot need', () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  const config = (keys: Array<[string, string]>) =>
    `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n${keys.map(([n, s]) => `      - aescbc:\n          keys:\n            - name: "${n}"\n              secret: ${s}`).join('\n')}\n      - identity: {}\n`;
  const enc = (keys: Array<[string, string]>, key: string, text: string) => parseEncryptionConfiguration(config(keys)).transformerFor('secrets').toStorage(Buffer.from(text), { key });
  const kv = (key: string, value: Buffer | string) => ({ key: Buffer.from(key), value: Buffer.from(value) });

  it('counts formats per resource, names the keys, and proves each decrypts to an object', () => {
    const keys = new BackupKeys([{ path: 'static-pod-resources/kube-apiserver-pod-2/secrets/encryption-config/encryption-config', data: Buffer.from(config([['2', k2], ['1', k1]])) }]);
    const s = (n: string) => `/kubernetes.io/secrets/ns/${n}`;
    const values = [
      kv(s('a'), enc([['2', k2]], s('a'), '{"kind":"Secret"}')),
      kv(s('b'), enc([['1', k1]], s('b'), '{"kind":"Secret"}')),
      kv(s('c'), enc([['1', k2]], s('c'), '{"kind":"Secret"}')), // key "1" by name, other material
      kv(s('d'), enc([['7', k1]], s('d'), '{"kind":"Secret"}')), // a key the backup lacks
      kv(s('e'), '{"kind":"Secret"}'),
      kv('/kubernetes.io/pods/ns/p', Buffer.from('k8s\0\n\x02v1', 'latin1')),
      kv('/kubernetes.io/configmaps/ns/x', Buffer.from([0xff, 0x00])),
      kv('compact_rev_key', '41'),
      kv('election/etcd-ops-operator/694d8b5a1c2f3e04', 'master-1'),
      kv('/etcd-ops.io/revision-samples', '{"samples":[]}'),
      kv('/someone/else', 'x'),
    ];
    const a = analyzeValues(values, keys);
    assert.equal(a.keys, 11);
    const secrets = a.resources.find((r) => r.resource === 'secrets')!;
    assert.deepEqual(
      { keys: secrets.keys, json: secrets.json, encrypted: secrets.encrypted, decrypted: secrets.decrypted, failed: secrets.decryptFailed, stale: secrets.stale },
      { keys: 5, json: 1, encrypted: 4, decrypted: 2, failed: 2, stale: 1 },
    );
    assert.deepEqual(secrets.byKey, { 'aescbc:2': 1, 'aescbc:1': 2, 'aescbc:7': 1 });
    assert.equal(a.resources.find((r) => r.resource === 'pods')!.protobuf, 1);
    assert.equal(a.resources.find((r) => r.resource === 'configmaps')!.undecodable, 1);
    // The control plane's own keys are named for what they are; only foreign ones are "undecodable".
    const row = (name: RegExp) => a.resources.filter((r) => name.test(r.resource)).map((r) => [r.resource, r.kube, r.keys, r.json, r.undecodable]);
    assert.deepEqual(row(/compaction marker/), [["API server: compaction marker (kube-apiserver's compact_rev_key)", false, 1, 0, 0]]);
    assert.deepEqual(row(/leader election/), [['etcd-ops: operator leader election (one key per replica, on its lease)', false, 1, 0, 0]]);
    assert.deepEqual(row(/revision samples/), [['etcd-ops: revision samples (compact --keep)', false, 1, 1, 0]]);
    assert.deepEqual(row(/not a Kubernetes key/), [['(not a Kubernetes key)', false, 1, 0, 1]]);
    assert.equal(a.resources.at(-1)!.kube, false);
    const byId = Object.fromEntries(a.keysNeeded.map((k) => [k.id, k]));
    assert.deepEqual([byId['aescbc:1']!.inBackup, byId['aescbc:1']!.decrypted, byId['aescbc:1']!.failed], [true, 1, 1]);
    assert.match(byId['aescbc:1']!.firstError!, /^\/kubernetes.io\/secrets\/ns\/c: /);
    assert.deepEqual([byId['aescbc:7']!.inBackup, byId['aescbc:7']!.failed], [false, 1]);
    assert.match(byId['aescbc:7']!.firstError!, /no matching key was found for the provided AES transformer/);
    // Without keys nothing is decrypted, but the needs are still listed.
    const blind = analyzeValues(values, undefined);
    assert.deepEqual(blind.keysNeeded.map((k) => [k.id, k.inBackup, k.decrypted]), [['aescbc:1', false, 0], ['aescbc:2', false, 0], ['aescbc:7', false, 0]]);
  });

  it('never rounds a partly encrypted resource up to 100 %', () => {
    const row = (encrypted: number, keys: number) => ({ resource: 'secrets', kube: true, keys, json: keys - encrypted, protobuf: 0, encrypted, byKey: {}, undecodable: 0, decrypted: 0, decryptFailed: 0, stale: 0 });
    assert.equal(encryptedPercent(row(1999, 2000)), 99.9);
    assert.equal(encryptedPercent(row(99_999, 100_000)), 99.9);
    assert.equal(encryptedPercent(row(20, 20)), 100);
    assert.equal(encryptedPercent(row(1, 3)), 33.3);
    assert.equal(encryptedPercent(row(0, 0)), 0);
  });
});

describe("a run's files", () => {
  it('never clobbers, and removes only what this run made', async () => {
    const dir = tempDir('etcd-ops-runfiles-');
    const theirs = join(dir, 'snapshot_old.db');
    writeFileSync(theirs, 'keep me');
    const files = new RunFiles();
    assert.throws(() => files.create(theirs), (e: Error) => e instanceof UserError && /exists already/.test(e.message));
    const w = new BatchWriter(files.create(join(dir, 'a.part')), 8);
    for (let i = 0; i < 10; i++) w.write(Buffer.from(`chunk${i}`));
    w.finish();
    assert.equal(readFileSync(join(dir, 'a.part'), 'utf8'), Array.from({ length: 10 }, (_, i) => `chunk${i}`).join(''));
    const big = Buffer.from(randomBytes(3 * 1024 * 1024 + 17));
    const aw = new AsyncBatchWriter(files.create(join(dir, 'b.part')), 64 * 1024, 3);
    for (let off = 0; off < big.length; off += 32 * 1024 + 5) await aw.write(big.subarray(off, off + 32 * 1024 + 5));
    assert.equal(await aw.finish(), big.length);
    assert.ok(readFileSync(join(dir, 'b.part')).equals(big), 'positional writes in flight keep the order');
    assert.throws(() => files.publish(join(dir, 'a.part'), theirs), /exists already: backups are never overwritten/);
    files.publish(join(dir, 'a.part'), join(dir, 'a.db'));
    assert.ok(!existsSync(join(dir, 'a.part')));
    files.removeAll();
    assert.ok(!existsSync(join(dir, 'a.db')));
    assert.ok(!existsSync(join(dir, 'b.part')));
    assert.equal(readFileSync(theirs, 'utf8'), 'keep me');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the static pods a host runs', () => {
  const pod = (root: string, name: string, rev: number) =>
    parsePod(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { revision: String(rev) } },
        spec: { containers: [{ name: 'c', command: ['true'] }], volumes: [{ name: 'resource-dir', hostPath: { path: join(root, 'static-pod-resources', `${name}-${rev}`) } }] },
      }),
      'pod',
    );

  it('takes the revision the manifest runs, skips stray pods, and refuses a required pod without manifest', () => {
    const root = tempDir('etcd-ops-pods-');
    const dirs = { manifests: join(root, 'manifests'), staticPodResources: join(root, 'static-pod-resources') };
    installRevision(dirs, 'etcd-pod', 5, pod(root, 'etcd-pod', 5), []);
    installRevision(dirs, 'etcd-pod', 4, pod(root, 'etcd-pod', 4), []);
    installRevision(dirs, 'kube-apiserver-pod', 2, pod(root, 'kube-apiserver-pod', 2), []);
    mkdirSync(join(dirs.staticPodResources, 'old-operator-pod-3'));
    mkdirSync(join(dirs.staticPodResources, 'etcd-certs'));
    const found = findRunningPods(root, 'master-0');
    assert.deepEqual(found.pods.map((p) => [p.pod, p.revision, p.relDir]), [
      ['kube-apiserver-pod', 2, 'static-pod-resources/kube-apiserver-pod-2'],
      ['etcd-pod', 4, 'static-pod-resources/etcd-pod-4'],
    ]);
    assert.deepEqual(found.skipped, [`old-operator-pod: it has revisions but no manifest ${join(dirs.manifests, 'old-operator-pod.yaml')}`]);
    renameSync(join(dirs.manifests, 'etcd-pod.yaml'), join(root, 'aside.yaml'));
    assert.throws(() => findRunningPods(root, 'master-0'), /^UserError: master-0: it has revisions but no manifest .*etcd-pod\.yaml, so its etcd member is not running/);
    rmSync(root, { recursive: true, force: true });
  });
});

describe('the backup folder: bounded creation, errors in words', () => {
  it('finding: `etcd-ops backup /proc/x` ends at once with one clear line (Node 20’s recursive mkdir spins there)', async () => {
    const started = Date.now();
    const r = await runCli(['backup', '/proc/etcd-ops-backup-test/sub', '--endpoints', 'http://127.0.0.1:9'], { timeoutMs: 30_000 });
    assertOneLineError(r, /^etcd-ops: cannot create the folder \/proc\/etcd-ops-backup-test\/sub: \/proc\/etcd-ops-backup-test: the file system there does not allow new folders/);
    assert.ok(Date.now() - started < 30_000);
  });

  it('finding: a path through a file says so in words, not "ENOTDIR: not a directory, mkdir"', async () => {
    const dir = tempDir('etcd-ops-backup-notdir-');
    writeFileSync(join(dir, 'file'), 'x');
    const r = await runCli(['backup', join(dir, 'file/sub/deeper'), '--endpoints', 'http://127.0.0.1:9'], { timeoutMs: 30_000 });
    assertOneLineError(r, new RegExp(`cannot create the folder .*: ${join(dir, 'file')} is a file, not a folder`));
    assert.doesNotMatch(r.stderr, /ENOTDIR/);
    makeDirs(join(dir, 'a/b/c'), 0o700);
    makeDirs(join(dir, 'a/b/c'));
    assert.ok(existsSync(join(dir, 'a/b/c')), 'makes missing parents, and an existing folder is fine');
    assert.throws(() => makeDirs(join(dir, 'file')), (e: Error) => e instanceof UserError && /is a file, not a folder/.test(e.message));
  });
});
