import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createCA, issueClientCert, issueServerCert, writeCert, writeCertKeyPair } from '../src/pki/index.js';
import { installRevision } from '../src/staticpod/install.js';
import { parsePod } from '../src/staticpod/pod.js';
import { parseEncryptionConfiguration } from '../src/encryption/index.js';
import { etcdClient } from '../src/etcd/connection.js';
import { snapshotStream } from '../src/backup/snapshot-stream.js';
import { inspectBackup } from '../src/backup/inspect.js';
import { UserError } from '../src/util/errors.js';
import { assertOneLineError, runCli } from './helpers/cli.js';
import { etcdctl, startEtcd, type StartedEtcd } from './helpers/etcd.js';
import { etcdctlStatus, txnPuts } from './helpers/snapshots.js';
import { backupFiles } from './helpers/backups.js';
import { tempDir } from './helpers/cleanup.js';

const ENC_FILE = 'secrets/encryption-config/encryption-config';

const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');
const strayKey = randomBytes(32).toString('base64');

const aescbc = (keys: Array<[string, string]>) => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
${keys.map(([n, s]) => `            - name: "${n}"\n              secret: ${s}`).join('\n')}
      - identity: {}
  - resources: [configmaps, routes.route.openshift.io]
    providers:
      - identity: {}
`;

/** What kube-apiserver revision 7 runs: key 2 writes, key 1 still reads. */
const CONFIG = aescbc([['2', key2], ['1', key1]]);

const secretJson = (i: number) => JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: `s-${i}`, namespace: 'backup-test' }, data: { token: Buffer.from(`token-${i}`).toString('base64') } });

/** Backups are named by the second: wait for the next one so two runs never share a stamp. */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}


/**
 * `backup --endpoints --resources-dir` for a cluster etcd-ops did not set up: one member over
 * TLS with client certificates, the host's /etc/kubernetes laid out by hand. No operator runs
 * here, so the kube-apiserver revision (and its keys) stay exactly what the test installs, and
 * the values are written as the API server stores them.
 */
describe('etcd-ops backup --endpoints over TLS, with encrypted data', { timeout: 120_000 }, () => {
  let etcd: StartedEtcd;
  let client: Etcd3;
  let tlsFlags: string[];
  let tls: { ca: Buffer; cert: Buffer; key: Buffer };
  const dir = tempDir('etcd-ops-backup-tls-');
  const etcKube = join(dir, 'etc-kubernetes');
  const srd = join(etcKube, 'static-pod-resources');
  let first: { snapshot: string; bundle: string; stamp: string };
  let second: { snapshot: string; bundle: string; stamp: string };

  before(async () => {
    const ca = await createCA({ commonName: 'etcd-ca' });
    writeCert(join(dir, 'ca.crt'), ca.certPem);
    const server = writeCertKeyPair(dir, 'server', await issueServerCert(ca, { commonName: 'etcd', dnsNames: ['localhost'] }));
    const clientPair = await issueClientCert(ca, { commonName: 'root' });
    const clientFiles = writeCertKeyPair(dir, 'client', clientPair);
    tls = { ca: Buffer.from(ca.certPem), cert: Buffer.from(clientPair.certPem), key: Buffer.from(clientPair.keyPem) };
    etcd = await startEtcd({ tls: { ca: join(dir, 'ca.crt'), serverCert: server.certFile, serverKey: server.keyFile, clientCert: clientFiles.certFile, clientKey: clientFiles.keyFile } });
    tlsFlags = ['--endpoints', etcd.clientURL, '--cacert', join(dir, 'ca.crt'), '--cert', clientFiles.certFile, '--key', clientFiles.keyFile];
    client = etcdClient({ endpoints: [etcd.clientURL], tls, commandTimeoutMs: 10_000, dialTimeoutMs: 5000 });

    // The host: etcd runs revision 3 (4 was written but never started); kube-apiserver runs 7,
    // whose predecessor 6 still has only key 1.
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
    installRevision(dirs, 'etcd-pod', 4, pod('etcd-pod', 4), [{ path: 'configmaps/etcd-scripts/etcd.env', data: 'REV=4\n' }]);
    installRevision(dirs, 'etcd-pod', 3, pod('etcd-pod', 3), [{ path: 'configmaps/etcd-scripts/etcd.env', data: 'REV=3\n' }]);
    installRevision(dirs, 'kube-apiserver-pod', 6, pod('kube-apiserver-pod', 6), [{ path: ENC_FILE, data: aescbc([['1', key1]]), mode: 0o600 }]);
    installRevision(dirs, 'kube-apiserver-pod', 7, pod('kube-apiserver-pod', 7), [{ path: ENC_FILE, data: CONFIG, mode: 0o600 }]);

    // The data, stored as the API server stores it.
    const writer = parseEncryptionConfiguration(CONFIG).transformerFor('secrets');
    const older = parseEncryptionConfiguration(aescbc([['1', key1]])).transformerFor('secrets');
    for (let i = 0; i < 20; i++) {
      const key = `/kubernetes.io/secrets/backup-test/s-${i}`;
      // 15 written with the current key, 5 still under the previous one (now a read key).
      await client.put(key).value((i < 15 ? writer : older).toStorage(Buffer.from(secretJson(i)), { key }));
    }
    etcdctl(etcd, ['txn'], txnPuts(Array.from({ length: 30 }, (_, i) => [`/kubernetes.io/configmaps/backup-test/cm-${i}`, `{"kind":"ConfigMap","data":{"i":"${i}"}}`])));
    await client.put('/kubernetes.io/pods/backup-test/p-0').value(Buffer.from('k8s\0\n\x02v1\x12\x03Pod', 'latin1'));
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the snapshot over TLS, byte for byte what etcdctl saves', async () => {
    const chunks: Buffer[] = [];
    let expected = 0;
    for await (const c of snapshotStream({ endpoint: etcd.clientURL, conn: { tls, dialTimeoutMs: 5000, commandTimeoutMs: 5000 }, onStart: (s) => (expected = s.expectedBytes) })) chunks.push(c);
    const ours = Buffer.concat(chunks);
    assert.equal(ours.length, expected, 'the first message announces the whole length');
    const file = join(dir, 'etcdctl.db');
    etcdctl(etcd, ['snapshot', 'save', file]);
    // No writes in between: the member sends the same database, sha256 trailer included.
    assert.ok(ours.equals(readFileSync(file)), 'the same bytes as etcdctl snapshot save');
    assert.equal(ours.length % 512, 32);
    // Without a client certificate the member refuses the handshake.
    const noCert = snapshotStream({ endpoint: etcd.clientURL, conn: { tls: { ca: tls.ca }, dialTimeoutMs: 5000, commandTimeoutMs: 5000 } });
    await assert.rejects(noCert.next(), (err: Error) => err instanceof UserError && /snapshot/.test(err.message) && !err.message.includes('\n'));
  });

  it('saves the revisions the manifests run, with their keys, and inspect proves they read every encrypted value', async () => {
    const out = join(dir, 'backups', 'first');
    const r = await runCli(['backup', out, ...tlsFlags, '--resources-dir', etcKube]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), [`found latest kube-apiserver-pod: ${join(srd, 'kube-apiserver-pod-7')}`, `found latest etcd-pod: ${join(srd, 'etcd-pod-3')}`]);
    assert.equal(lines.at(-1), `snapshot db and kube resources are successfully saved to ${out}`);
    assert.equal(statSync(out).mode & 0o777, 0o700);
    first = backupFiles(out);
    for (const f of [first.snapshot, first.bundle]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const theirs = etcdctlStatus(first.snapshot, 'json');
    assert.equal(lines[2], theirs.trim(), 'the status JSON, as etcdctl snapshot status -w json prints it');

    const listing = spawnSync('tar', ['tzf', first.bundle], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.deepEqual(listing, [
      'etcd-ops-backup.json',
      'static-pod-resources/kube-apiserver-pod-7/',
      'static-pod-resources/kube-apiserver-pod-7/kube-apiserver-pod.yaml',
      'static-pod-resources/kube-apiserver-pod-7/secrets/',
      'static-pod-resources/kube-apiserver-pod-7/secrets/encryption-config/',
      `static-pod-resources/kube-apiserver-pod-7/${ENC_FILE}`,
      'static-pod-resources/etcd-pod-3/',
      'static-pod-resources/etcd-pod-3/configmaps/',
      'static-pod-resources/etcd-pod-3/configmaps/etcd-scripts/',
      'static-pod-resources/etcd-pod-3/configmaps/etcd-scripts/etcd.env',
      'static-pod-resources/etcd-pod-3/etcd-pod.yaml',
    ]);
    const manifestText = spawnSync('tar', ['xzOf', first.bundle, 'etcd-ops-backup.json'], { encoding: 'utf8' }).stdout;
    for (const k of [key1, key2]) assert.ok(!manifestText.includes(k), 'no key material in the manifest');
    const manifest = JSON.parse(manifestText);
    const size = statSync(first.snapshot).size;
    assert.equal(manifest.snapshot.sha256, readFileSync(first.snapshot).subarray(size - 32).toString('hex'));
    assert.equal(manifest.snapshot.file, basename(first.snapshot));
    assert.equal(manifest.snapshot.size, size);
    assert.equal(manifest.endpoint, etcd.clientURL);
    assert.equal(manifest.possiblyDirty, false);
    assert.equal(manifest.etcd.revision, JSON.parse(theirs).revision);
    assert.match(manifest.etcd.memberID, /^[0-9a-f]+$/);
    assert.deepEqual(manifest.staticPods, [
      { pod: 'kube-apiserver-pod', revision: 7, dir: 'static-pod-resources/kube-apiserver-pod-7' },
      { pod: 'etcd-pod', revision: 3, dir: 'static-pod-resources/etcd-pod-3' },
    ]);
    assert.deepEqual(manifest.encryption[0].resources[0], {
      resource: 'secrets',
      mode: 'aescbc',
      writeKey: '2',
      keys: [{ provider: 'aescbc', name: '2' }, { provider: 'aescbc', name: '1' }, { provider: 'identity' }],
    });

    const config = join(dir, 'config.yaml');
    writeFileSync(config, CONFIG);
    const [insp, table, raw, plain, viaConfig] = await Promise.all([
      runCli(['backup', 'inspect', out, '-w', 'json']),
      runCli(['backup', 'inspect', first.snapshot]),
      runCli(['snapshot', 'get', first.snapshot, '/kubernetes.io/secrets/backup-test/s-3']),
      runCli(['snapshot', 'get', first.snapshot, '--prefix', '/kubernetes.io/secrets/backup-test/', '--decrypt-with', first.bundle]),
      runCli(['snapshot', 'get', first.snapshot, '/kubernetes.io/secrets/backup-test/s-17', '--decrypt-with', config]),
    ]);
    assert.equal(insp.code, 0, insp.stderr + insp.stdout);
    const report = JSON.parse(insp.stdout);
    assert.equal(report.snapshot.trailer, 'ok');
    assert.equal(report.bundle.path, first.bundle);
    assert.equal(report.revision, JSON.parse(theirs).revision);
    const secrets = report.resources.find((x: { resource: string }) => x.resource === 'secrets');
    assert.deepEqual(
      [secrets.keys, secrets.encrypted, secrets.encryptedPercent, secrets.decrypted, secrets.decryptFailed, secrets.stale],
      [20, 20, 100, 20, 0, 5],
    );
    assert.deepEqual(secrets.byKey, { 'aescbc:2': 15, 'aescbc:1': 5 });
    assert.equal(report.resources.find((x: { resource: string }) => x.resource === 'configmaps').json, 30);
    assert.equal(report.resources.find((x: { resource: string }) => x.resource === 'pods').protobuf, 1);
    assert.deepEqual(
      report.keysNeeded.map((k: { id: string; inBackup: boolean; decrypted: number }) => [k.id, k.inBackup, k.decrypted]),
      [['aescbc:1', true, 5], ['aescbc:2', true, 15]],
    );
    assert.deepEqual(report.warnings, []);

    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /\|\s+secrets \|\s+20 \|\s+0 \|\s+0 \|\s+20 \(100%\) \|/);
    assert.match(table.stdout, /OK: the archive's keys decrypt all 20 encrypted values/);

    // snapshot get: ciphertext as stored; plaintext with the backup's archive or a bare configuration.
    assert.match(raw.stdout.split('\n')[1]!, /^k8s:enc:aescbc:v1:2:/);
    assert.equal(plain.code, 0, plain.stderr);
    const got = plain.stdout.trim().split('\n');
    assert.equal(got.length, 40);
    for (let i = 0; i < got.length; i += 2) assert.equal(got[i + 1], secretJson(Number(/s-(\d+)$/.exec(got[i]!)![1])));
    assert.equal(viaConfig.stdout, `/kubernetes.io/secrets/backup-test/s-17\n${secretJson(17)}\n`);
  });

  it('reports a key the archive lacks, values it cannot decrypt, and partly encrypted resources', async () => {
    const stray = '/kubernetes.io/secrets/backup-test/stray';
    await client.put(stray).value(parseEncryptionConfiguration(aescbc([['9', strayKey]])).transformerFor('secrets').toStorage(Buffer.from(secretJson(99)), { key: stray }));
    // Named like the archive's key "1", but other key material.
    const impostor = '/kubernetes.io/secrets/backup-test/impostor';
    await client.put(impostor).value(parseEncryptionConfiguration(aescbc([['1', strayKey]])).transformerFor('secrets').toStorage(Buffer.from(secretJson(98)), { key: impostor }));
    // And one still in plaintext.
    const plainKey = '/kubernetes.io/secrets/backup-test/plain';
    await client.put(plainKey).value(secretJson(97));
    await nextSecond();
    const out = join(dir, 'backups', 'second');
    const r = await runCli(['backup', out, ...tlsFlags, '--resources-dir', etcKube]);
    assert.equal(r.code, 0, r.stderr);
    second = backupFiles(out);
    assert.notEqual(second.stamp, first.stamp);

    const [insp, get] = await Promise.all([
      runCli(['backup', 'inspect', out, '-w', 'json']),
      runCli(['snapshot', 'get', second.snapshot, stray, '--decrypt-with', second.bundle]),
    ]);
    assert.equal(insp.code, 2, 'problems that break a restore exit 2');
    const report = JSON.parse(insp.stdout);
    const find = (code: string) => report.warnings.find((w: { code: string }) => w.code === code)?.message ?? `no ${code} in ${insp.stdout}`;
    assert.match(find('key-missing'), /^1 value of secrets is encrypted with aescbc key "9", which no EncryptionConfiguration in the archive has/);
    assert.match(find('decrypt-failed'), /^1 of 6 values of secrets encrypted with aescbc:1 do not decrypt .*impostor/);
    assert.match(find('partly-encrypted'), /^secrets: 22 of 23 values are encrypted \(95\.6%\), 1 is plaintext/);
    assert.equal(report.warnings.find((w: { code: string }) => w.code === 'partly-encrypted').level, 'warning');
    for (const k of [key1, key2, strayKey]) assert.ok(!insp.stdout.includes(k), 'never prints key material');
    assertOneLineError(get, /cannot decrypt "\/kubernetes.io\/secrets\/backup-test\/stray" with .*: no matching key was found for the provided AES transformer/);
    for (const k of [stray, impostor, plainKey]) await client.delete().key(k);
  });

  it('damaged copies and mismatched pairs: one clear line, or an error finding', async () => {
    const good = readFileSync(first.snapshot);
    const damaged = join(dir, 'damaged');
    mkdirSync(damaged);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)]! ^= 0x10;
    const cases: Array<[string, Buffer, RegExp]> = [
      ['flipped', flipped, /flipped\.db: sha256 mismatch/],
      ['truncated', good.subarray(0, Math.floor(good.length / 2) + 100), /truncated\.db: truncated/],
      ['empty', Buffer.alloc(0), /empty\.db: 0 bytes is too small/],
      ['random', randomBytes(64 * 1024 + 32), /random\.db: (sha256 mismatch|no valid bbolt meta page)/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const file = join(damaged, `${name}.db`);
      writeFileSync(file, bytes);
      await assert.rejects(inspectBackup({ path: file, bundle: first.bundle }), (err: Error) => {
        assert.ok(err instanceof UserError, `${name}: ${err.stack}`);
        assert.match(err.message, pattern, name);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    }
    // Through the CLI: one line on stderr, no report; and a snapshot with another backup's archive.
    const [status, insp, explicit] = await Promise.all([
      runCli(['snapshot', 'status', join(damaged, 'flipped.db')]),
      runCli(['backup', 'inspect', join(damaged, 'truncated.db')]),
      runCli(['backup', 'inspect', first.snapshot, '--bundle', second.bundle]),
    ]);
    assertOneLineError(status, /flipped\.db: sha256 mismatch/);
    assertOneLineError(insp, /truncated\.db: truncated/);
    assert.equal(insp.stdout, '');
    assert.equal(explicit.code, 2);
    assert.match(explicit.stdout, /ERROR \(other-backup\): static_kuberesources_.* belongs to snapshot_.*, not to snapshot_/);
    // The pair renamed to look like one backup: the manifest's sha256 still tells.
    const swapped = join(dir, 'swapped');
    mkdirSync(swapped);
    copyFileSync(first.snapshot, join(swapped, `snapshot_${second.stamp}.db`));
    copyFileSync(second.bundle, join(swapped, `static_kuberesources_${second.stamp}.tar.gz`));
    const renamed = await inspectBackup({ path: swapped });
    assert.ok(renamed.warnings.some((w) => w.code === 'other-backup' && w.level === 'error'));
    // Without its trailer (a raw db): a warning, and the manifest still recognises the bytes.
    const raw = join(damaged, 'raw.db');
    writeFileSync(raw, good.subarray(0, good.length - 32));
    const noTrailer = await inspectBackup({ path: raw, bundle: first.bundle });
    assert.deepEqual(noTrailer.warnings.map((w) => w.code), ['no-trailer']);
    assert.equal(noTrailer.snapshot.sha256, JSON.parse(spawnSync('tar', ['xzOf', first.bundle, 'etcd-ops-backup.json'], { encoding: 'utf8' }).stdout).snapshot.sha256);
    // No archive next to an encrypted snapshot: the keys cannot be proven.
    const alone = join(dir, 'alone');
    mkdirSync(alone);
    copyFileSync(first.snapshot, join(alone, basename(first.snapshot)));
    const noBundle = await inspectBackup({ path: alone });
    assert.deepEqual(noBundle.warnings.map((w) => [w.level, w.code]), [['error', 'no-bundle']]);
  });

  it('says what is wrong with the flags in one line', async () => {
    const [two, notDir, noCert] = await Promise.all([
      runCli(['backup', join(dir, 'x'), '--endpoints', `${etcd.clientURL},${etcd.clientURL.replace(/:\d+$/, ':1')}`]),
      runCli(['backup', join(dir, 'ca.crt'), ...tlsFlags]),
      runCli(['backup', join(dir, 'y'), '--endpoints', etcd.clientURL, '--cacert', join(dir, 'ca.crt')]),
    ]);
    assertOneLineError(two, /a backup is of one member: give exactly one endpoint/);
    assertOneLineError(notDir, /ca\.crt is a file: give a folder/);
    assertOneLineError(noCert, /^etcd-ops: the etcd member https:\/\/127\.0\.0\.1:\d+ does not answer \(TLS handshake failed: the member rejected our client certificate/);
    assert.deepEqual(readdirSync(join(dir, 'y')), [], 'a failed backup leaves no files');
  });
});
