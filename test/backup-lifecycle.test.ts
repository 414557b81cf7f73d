/**
 * The backup lifecycle against one real etcd member with a host's etc/kubernetes laid out by
 * hand (no control plane): restore drills that pass on a good backup and fail, with the reason,
 * on a damaged snapshot, a bundle without the keys and another backup's bundle; age-encrypted
 * backups through inspect, drill, snapshot status and restore; off-host copies through a real
 * `rclone serve webdav` on 127.0.0.1, an interrupted upload included.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { create as tarCreate, extract as tarExtract } from 'tar';
import { installRevision } from '../src/staticpod/install.js';
import { parsePod } from '../src/staticpod/pod.js';
import { parseEncryptionConfiguration } from '../src/encryption/index.js';
import { etcdClient } from '../src/etcd/connection.js';
import { freePorts } from '../src/util/ports.js';
import { openSnapshot } from '../src/snapshot/index.js';
import { snapshotHashKV } from '../src/snapshot/hashkv.js';
import { readerProof } from '../src/backup/drill-reader.js';
import { waitFor } from '../src/util/time.js';
import { assertOneLineError, projectRoot, runCli } from './helpers/cli.js';
import { etcdctl, startEtcd, type StartedEtcd } from './helpers/etcd.js';
import { txnPuts } from './helpers/snapshots.js';
import { backupFiles } from './helpers/backups.js';
import { tempDir, trackGroup, trackPid, untrackGroup, untrackPid } from './helpers/cleanup.js';

const ENC_FILE = 'secrets/encryption-config/encryption-config';
const aesKey = randomBytes(32).toString('base64');
const CONFIG = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: "1"
              secret: ${aesKey}
      - identity: {}
`;
/** A plaintext value to look for in encrypted files. */
const KNOWN = 'plaintext-canary-5f3a9c';

async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}

describe('backup lifecycle: drills, encryption, off-host copies', { timeout: 150_000 }, () => {
  let etcd: StartedEtcd;
  const dir = tempDir('etcd-ops-lifecycle-');
  const etcKube = join(dir, 'etc-kubernetes');
  const srd = join(etcKube, 'static-pod-resources');
  let ep: string[];
  let good: { snapshot: string; bundle: string; stamp: string };
  let identityFile: string;
  let recipient: string;
  let dav: ChildProcess | undefined;
  let rcloneConf: string;

  const cli = (args: string[], env?: NodeJS.ProcessEnv) => runCli(args, { timeoutMs: 90_000, env });

  before(async () => {
    etcd = await startEtcd();
    ep = ['--endpoints', etcd.clientURL];
    const dirs = { manifests: join(etcKube, 'manifests'), staticPodResources: srd };
    const pod = (name: string, rev: number) =>
      parsePod(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { revision: String(rev) } },
          spec: { containers: [{ name: 'c', command: ['true'] }], volumes: [{ name: 'resource-dir', hostPath: { path: join(srd, `${name}-${rev}`) } }] },
        }),
        'pod',
      );
    installRevision(dirs, 'etcd-pod', 3, pod('etcd-pod', 3), [{ path: 'configmaps/etcd-scripts/etcd.env', data: 'REV=3\n' }]);
    installRevision(dirs, 'kube-apiserver-pod', 7, pod('kube-apiserver-pod', 7), [{ path: ENC_FILE, data: CONFIG, mode: 0o600 }]);
    const client = etcdClient({ endpoints: [etcd.clientURL], commandTimeoutMs: 10_000, dialTimeoutMs: 5000 });
    try {
      const writer = parseEncryptionConfiguration(CONFIG).transformerFor('secrets');
      for (let i = 0; i < 20; i++) {
        const key = `/kubernetes.io/secrets/lifecycle/s-${i}`;
        const json = JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: `s-${i}`, namespace: 'lifecycle' }, data: { token: Buffer.from(`token-${i}`).toString('base64') } });
        await client.put(key).value(writer.toStorage(Buffer.from(json), { key }));
      }
    } finally {
      client.close();
    }
    etcdctl(etcd, ['txn'], txnPuts(Array.from({ length: 30 }, (_, i) => [`/kubernetes.io/configmaps/lifecycle/cm-${i}`, `{"kind":"ConfigMap","data":{"v":"${KNOWN}-${i}"}}`])));
    const id = await generateX25519Identity();
    recipient = await identityToRecipient(id);
    identityFile = join(dir, 'identity.txt');
    writeFileSync(identityFile, `# created: test\n# public key: ${recipient}\n${id}\n`, { mode: 0o600 });

    const r = await cli(['backup', join(dir, 'plain'), ...ep, '--resources-dir', etcKube]);
    assert.equal(r.code, 0, r.stderr);
    good = backupFiles(join(dir, 'plain'));
  });
  after(async () => {
    if (dav && dav.exitCode === null) {
      dav.kill('SIGKILL');
      untrackPid(dav.pid!);
    }
    await etcd?.stop();
  });

  it('a drill passes on a good backup, says what it proved and how long it took, and keeps the result for backup list', async () => {
    const r = await cli(['backup', 'drill', join(dir, 'plain')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const s of ['open', 'verify', 'reader', 'restore', 'start', 'hashkv', 'keys']) assert.match(r.stdout, new RegExp(`^  ok   ${s}\\s+\\d+ ms`, 'm'), r.stdout);
    assert.match(r.stdout, /^PASSED in \d+\.\ds; proven:$/m);
    assert.match(r.stdout, /etcd restored from it serves the same key space: HashKV \d+ at revision \d+/);
    assert.match(r.stdout, /every one of the 50 live keys reads back through etcd at its mod revision/);
    assert.match(r.stdout, /20 encrypted values decrypt with the bundle's keys \(aescbc:1\)/);
    // The scratch member and its data are gone; the backup is untouched.
    assert.deepEqual(readdirSync(join(dir, 'plain')).filter((n) => !n.startsWith('backup_') && !n.startsWith('.')).sort(), [basename(good.snapshot), basename(good.bundle)].sort());
    const list = await cli(['backup', 'list', join(dir, 'plain'), '-w', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const b = JSON.parse(list.stdout)[0].backups[0];
    assert.equal(b.complete, true);
    assert.equal(b.drill.result, 'Passed');
    const table = await cli(['backup', 'list', join(dir, 'plain')]);
    assert.match(table.stdout, /\| +complete \| Passed \d+s ago \|/);
  });

  it('a drill fails, with the reason, on a flipped byte in a value page, a bundle without the keys, and another backup\'s bundle', async () => {
    // A flipped byte inside a stored value.
    const flipped = join(dir, 'flipped');
    mkdirSync(flipped);
    const snap = join(flipped, basename(good.snapshot));
    const bytes = readFileSync(good.snapshot);
    const at = bytes.indexOf(Buffer.from(`${KNOWN}-7`));
    assert.ok(at > 0, 'the value is in the snapshot');
    bytes[at + 3]! ^= 0x01;
    writeFileSync(snap, bytes);
    copyFileSync(good.bundle, join(flipped, basename(good.bundle)));
    let r = await cli(['backup', 'drill', snap]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAILED after [\d.]+s: verify: .*sha256/m);

    // The bundle without its EncryptionConfiguration.
    const nokeys = join(dir, 'nokeys');
    const unpacked = join(dir, 'unpacked');
    mkdirSync(nokeys);
    mkdirSync(unpacked);
    await tarExtract({ file: good.bundle, cwd: unpacked });
    const keep = ['etcd-ops-backup.json', 'static-pod-resources/etcd-pod-3', 'static-pod-resources/kube-apiserver-pod-7/kube-apiserver-pod.yaml'].filter((p) => existsSync(join(unpacked, p)));
    await tarCreate({ gzip: true, file: join(nokeys, basename(good.bundle)), cwd: unpacked }, keep);
    copyFileSync(good.snapshot, join(nokeys, basename(good.snapshot)));
    r = await cli(['backup', 'drill', join(nokeys, basename(good.snapshot))]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAILED after [\d.]+s: verify: 20 values of secrets are encrypted with aescbc key "1", which no EncryptionConfiguration in the archive has/m);

    // The snapshot with another backup's bundle.
    await nextSecond();
    // History, deletes and a compaction before it: the drill's one-pass HashKV must still be etcd's.
    etcdctl(etcd, ['put', '/kubernetes.io/configmaps/lifecycle/later', '{}']);
    etcdctl(etcd, ['put', '/kubernetes.io/configmaps/lifecycle/later', '{"v":2}']);
    etcdctl(etcd, ['del', '/kubernetes.io/configmaps/lifecycle/cm-3']);
    const head = JSON.parse(etcdctl(etcd, ['endpoint', 'status', '-w', 'json']))[0].Status.header.revision;
    etcdctl(etcd, ['compact', String(head - 1)]);
    etcdctl(etcd, ['put', '/kubernetes.io/configmaps/lifecycle/later', '{"v":3}']);
    const other = await cli(['backup', join(dir, 'other'), ...ep, '--resources-dir', etcKube]);
    assert.equal(other.code, 0, other.stderr);
    const otherFiles = backupFiles(join(dir, 'other'));
    const snapOther = openSnapshot(otherFiles.snapshot);
    try {
      const rev = snapOther.headRevision();
      assert.equal(readerProof(snapOther, rev).hash, snapshotHashKV(snapOther, rev).hash, 'one pass and two passes agree');
    } finally {
      snapOther.close();
    }
    const otherDrill = await cli(['backup', 'drill', otherFiles.snapshot]);
    assert.equal(otherDrill.code, 0, otherDrill.stdout + otherDrill.stderr);
    assert.match(otherDrill.stdout, /every one of the 50 live keys/);
    r = await cli(['backup', 'drill', good.snapshot, '--bundle', otherFiles.bundle]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAILED after [\d.]+s: verify: static_kuberesources_.*\.tar\.gz belongs to snapshot_.*\.db \(database sha256 [0-9a-f]{12}…\), not to /m);
  });

  it('an encrypted backup holds no plaintext and round-trips through inspect, drill, snapshot status and restore with the identity; without it, one clear line', async () => {
    const enc = join(dir, 'enc');
    const r = await cli(['backup', enc, ...ep, '--resources-dir', etcKube, '--encrypt-to', recipient]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`snapshot db and kube resources are successfully saved to ${enc}\\n$`));
    const names = readdirSync(enc).sort();
    assert.equal(names.length, 3, names.join(', '));
    const snap = join(enc, names.find((n) => n.endsWith('.db.age'))!);
    const bundle = join(enc, names.find((n) => n.endsWith('.tar.gz.age'))!);
    assert.ok(names.some((n) => /^backup_.*\.json$/.test(n)), 'a record');
    for (const f of [snap, bundle]) {
      const b = readFileSync(f);
      assert.equal(b.subarray(0, 22).toString(), 'age-encryption.org/v1\n');
      assert.equal(b.indexOf(Buffer.from(KNOWN)), -1, `${f} holds a plaintext value`);
      assert.equal(b.indexOf(Buffer.from(aesKey)), -1, `${f} holds the aescbc key`);
      assert.equal(b.indexOf(Buffer.from('EncryptionConfiguration')), -1, `${f} holds the configuration's text`);
    }

    const [inspect, noId, wrong, drill, status] = await Promise.all([
      cli(['backup', 'inspect', snap, '--identity', identityFile, '-w', 'json']),
      cli(['backup', 'inspect', snap]),
      (async () => {
        const other = join(dir, 'other-identity.txt');
        writeFileSync(other, `${await generateX25519Identity()}\n`, { mode: 0o600 });
        return cli(['backup', 'drill', enc, '--identity', other]);
      })(),
      cli(['backup', 'drill', enc, '--identity', identityFile]),
      cli(['snapshot', 'status', snap, '--identity', identityFile, '-w', 'json']),
    ]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const rep = JSON.parse(inspect.stdout);
    assert.equal(rep.snapshot.path, snap);
    assert.equal(rep.keysNeeded[0].values, 20);
    assert.equal(rep.keysNeeded[0].failed, 0);
    assertOneLineError(noId, /^etcd-ops: .*snapshot_.*\.db\.age is encrypted \(age\): give the identity that opens it with --identity FILE$/);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stdout, /FAILED after .*: open: .*\.age: .*other-identity\.txt cannot decrypt it: the file was encrypted to other recipients/);
    assert.equal(drill.code, 0, drill.stdout + drill.stderr);
    assert.match(drill.stdout, /^  ok   open .*decrypted snapshot_.*\.db\.age and static_kuberesources_.*\.tar\.gz\.age with /m);
    assert.match(drill.stdout, /^PASSED/m);
    assert.equal(status.code, 0, status.stderr);
    const record = JSON.parse(readFileSync(join(enc, names.find((n) => n.startsWith('backup_'))!), 'utf8'));
    assert.equal(JSON.parse(status.stdout).revision, record.revision);
    assert.equal(record.drill.result, 'Passed', 'the drill is kept in the record');
    // No plaintext is left behind anywhere in the folder.
    assert.deepEqual(readdirSync(enc).sort(), names);

    const dataDir = join(dir, 'restored');
    const restored = await cli(['snapshot', 'restore', snap, '--identity', identityFile, '--data-dir', dataDir]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.ok(existsSync(join(dataDir, 'member', 'snap', 'db')));

    // A passphrase works the same way; a wrong one gets one line.
    const pass = join(dir, 'pass.txt');
    writeFileSync(pass, 'correct horse battery staple\n', { mode: 0o600 });
    const badPass = join(dir, 'bad-pass.txt');
    writeFileSync(badPass, 'wrong\n', { mode: 0o600 });
    await nextSecond();
    const pb = await cli(['backup', join(dir, 'pass'), ...ep, '--resources-dir', etcKube, '--passphrase-file', pass]);
    assert.equal(pb.code, 0, pb.stderr);
    const [ok, bad] = await Promise.all([cli(['backup', 'inspect', join(dir, 'pass'), '--identity', pass]), cli(['backup', 'inspect', join(dir, 'pass'), '--identity', badPass])]);
    assert.equal(ok.code, 0, ok.stderr);
    assertOneLineError(bad, /cannot decrypt it: the file was encrypted to other recipients or with another passphrase/);
  });

  it('push and pull through rclone serve webdav give the same bytes; an interrupted upload is not a good remote backup', async () => {
    const [port] = await freePorts(1);
    const store = join(dir, 'webdav');
    mkdirSync(store);
    dav = spawn('rclone', ['serve', 'webdav', '--addr', `127.0.0.1:${port}`, store], { stdio: 'ignore' });
    trackPid(dav.pid!);
    rcloneConf = join(dir, 'rclone.conf');
    writeFileSync(rcloneConf, `[dav]\ntype = webdav\nurl = http://127.0.0.1:${port}\nvendor = other\n`, { mode: 0o600 });
    await waitFor('rclone serve webdav', 20_000, async () => ((await runCli(['backup', 'list', '--remote', 'dav:', '--rclone-config', rcloneConf])).code === 0 ? true : undefined), 300);

    const enc = join(dir, 'enc');
    const push = await cli(['backup', 'push', enc, 'dav:backups', '--rclone-config', rcloneConf]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /^pushed .*: snapshot_.*\.db\.age, static_kuberesources_.*\.tar\.gz\.age, backup_.*\.json \(verified by size and SHA-256 on dav:backups\)$/m);
    const pulledDir = join(dir, 'pulled');
    const pull = await cli(['backup', 'pull', 'dav:backups', pulledDir, '--rclone-config', rcloneConf]);
    assert.equal(pull.code, 0, pull.stderr);
    for (const n of readdirSync(enc)) assert.ok(readFileSync(join(enc, n)).equals(readFileSync(join(pulledDir, n))), `${n}: the same bytes`);

    // An upload killed half way (rclone slowed to 16 KiB/s) leaves a copy without its record.
    const plainDir = join(dir, 'plain');
    const slow = spawn(process.execPath, [join(projectRoot, 'bin/etcd-ops.js'), 'backup', 'push', plainDir, 'dav:backups', '--rclone-config', rcloneConf], {
      env: { ...process.env, RCLONE_BWLIMIT: '16k' },
      stdio: 'ignore',
      detached: true,
    });
    trackGroup(slow.pid!);
    await waitFor('the upload to start', 30_000, () => (readdirSync(join(store, 'backups')).some((n) => n.startsWith(`snapshot_${good.stamp}`)) ? true : undefined), 100);
    process.kill(-slow.pid!, 'SIGKILL');
    untrackGroup(slow.pid!);
    const listed = await cli(['backup', 'list', '--remote', 'dav:backups', '--rclone-config', rcloneConf, '-w', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    const byStamp = new Map(JSON.parse(listed.stdout)[0].backups.map((b: any) => [b.stamp, b]));
    assert.equal((byStamp.get(good.stamp) as any).complete, false, 'the interrupted copy is not complete');
    assert.match((byStamp.get(good.stamp) as any).problem, /no record: the copy did not finish/);
    const encStamp = /^snapshot_(.+)\.db\.age$/.exec(readdirSync(enc).find((n) => n.endsWith('.db.age'))!)![1];
    assert.equal((byStamp.get(encStamp) as any).complete, true);
    // Pushing again completes it.
    const again = await cli(['backup', 'push', plainDir, 'dav:backups', '--rclone-config', rcloneConf]);
    assert.equal(again.code, 0, again.stderr);
    const table = await cli(['backup', 'list', '--remote', 'dav:backups', '--rclone-config', rcloneConf]);
    assert.doesNotMatch(table.stdout, /incomplete/);
  });
});
