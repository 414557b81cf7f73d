import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { clientFor } from './helpers/fill.js';
import { upHome, type TestHome } from './helpers/home.js';
import { assertOneLineError, runCli } from './helpers/cli.js';
import { etcdctlStatus } from './helpers/snapshots.js';
import { hostPaths } from '../src/home/layout.js';
import { runningRevision } from '../src/staticpod/install.js';
import { freePorts } from '../src/util/ports.js';
import { waitFor } from '../src/util/time.js';
import { inspectBackup } from '../src/backup/inspect.js';
import { refusal } from '../src/backup/operators.js';
import { readOperatorStates } from '../src/backup/read-operators.js';
import { backupFiles } from './helpers/backups.js';
import { tempDir } from './helpers/cleanup.js';



/**
 * cluster-backup.sh on a host of a running local control plane, operator and API servers
 * included: the revisions its manifests run, the Progressing check read straight from etcd,
 * and what happens when the host's member is not there.
 */
describe('etcd-ops backup on a running local control plane', { timeout: 180_000 }, () => {
  let h: TestHome;
  let client: Etcd3;
  const work = tempDir('etcd-ops-backup-');

  before(async () => {
    h = await upHome();
    client = clientFor(h.conn);
  });
  after(async () => {
    client?.close();
    await h?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it('saves a verified snapshot of the host member and the revisions its manifests run', async () => {
    for (let i = 0; i < 50; i++) await client.put(`/kubernetes.io/configmaps/backup-test/cm-${i}`).value(JSON.stringify({ kind: 'ConfigMap', data: { i: String(i) } }));
    // The operator rolls revisions out right after `up`; a backup waits for quiet, as an admin would.
    await waitFor('no operator to be progressing', 90_000, async () => {
      const states = await readOperatorStates({ ...h.conn, commandTimeoutMs: 5000, dialTimeoutMs: 2000 });
      return refusal(states) === undefined ? true : undefined;
    }, 500);

    const p = hostPaths(h.home, 'master-0');
    const pods = readdirSync(p.manifests)
      .map((f) => runningRevision(p, f.replace(/\.yaml$/, '')))
      .filter((r): r is NonNullable<typeof r> => r !== undefined && r.podName.endsWith('-pod'));
    assert.ok(pods.some((r) => r.podName === 'etcd-pod') && pods.some((r) => r.podName === 'kube-apiserver-pod'), 'the host runs etcd and kube-apiserver');

    const dir = join(work, 'one', 'nested');
    const r = await h.cli(['backup', dir], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const pod of pods) assert.ok(lines.includes(`found latest ${pod.podName}: ${pod.resourceDir}`), `${pod.podName} in:\n${r.stdout}`);
    assert.equal(lines.at(-1), `snapshot db and kube resources are successfully saved to ${dir}`);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = backupFiles(dir);
    for (const f of [files.snapshot, files.bundle]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const size = statSync(files.snapshot).size;
    assert.equal(size % 512, 32, 'the snapshot carries the sha256 trailer');

    const theirs = etcdctlStatus(files.snapshot, 'json');
    const [ours, insp] = await Promise.all([runCli(['snapshot', 'status', '-w', 'json', files.snapshot]), runCli(['backup', 'inspect', dir, '-w', 'json'])]);
    assert.equal(ours.stdout, theirs, 'etcd-ops snapshot status agrees with etcdctl');
    assert.ok(lines.includes(theirs.trim()), `backup printed the status JSON:\n${r.stdout}`);

    const listing = spawnSync('tar', ['tzf', files.bundle], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.equal(listing[0], 'etcd-ops-backup.json');
    for (const pod of pods) assert.ok(listing.includes(`static-pod-resources/${pod.podName}-${pod.revision}/`), `${pod.podName}-${pod.revision} in ${listing.join(' ')}`);
    assert.ok(listing.every((e) => e === 'etcd-ops-backup.json' || e.startsWith('static-pod-certs/') || pods.some((pod) => e.startsWith(`static-pod-resources/${pod.podName}-${pod.revision}/`))), 'only the running revisions');
    // The certificates a restore on this host needs: its own member's and the CA bundle, never the signer's key.
    const certs = listing.filter((e) => e.startsWith('static-pod-certs/') && !e.endsWith('/'));
    if (h.cluster.hosts[0]!.clientURL.startsWith('https://')) {
      assert.ok(certs.includes('static-pod-certs/configmaps/etcd-serving-ca/ca-bundle.crt'), certs.join(' '));
      assert.ok(certs.some((e) => e.endsWith('etcd-peer-master-0.key')), certs.join(' '));
      assert.ok(certs.every((e) => !/master-[12]|ca\.key/.test(e)), `only master-0's own: ${certs.join(' ')}`);
    }
    const manifest = JSON.parse(spawnSync('tar', ['xzOf', files.bundle, 'etcd-ops-backup.json'], { encoding: 'utf8' }).stdout);
    assert.equal(manifest.host, 'master-0');
    assert.equal(manifest.endpoint, h.cluster.hosts[0]!.clientURL);
    assert.equal(manifest.snapshot.file, basename(files.snapshot));
    assert.equal(manifest.snapshot.sha256, readFileSync(files.snapshot).subarray(size - 32).toString('hex'));
    assert.equal(manifest.etcd.revision, JSON.parse(theirs).revision);
    assert.equal(manifest.etcd.version, h.cluster.etcd.version);
    const kas = pods.find((x) => x.podName === 'kube-apiserver-pod')!;
    assert.equal(manifest.encryption.find((e: { pod: string }) => e.pod === 'kube-apiserver-pod')?.revision, kas.revision, 'the running revision\'s EncryptionConfiguration is described');

    assert.equal(insp.code, 0, insp.stdout + insp.stderr);
    const report = JSON.parse(insp.stdout);
    assert.equal(report.snapshot.trailer, 'ok');
    assert.equal(report.resources.find((x: { resource: string }) => x.resource === 'configmaps').keys >= 50, true);
    assert.deepEqual(report.warnings.filter((w: { level: string }) => w.level === 'error'), []);
  });

  it('refuses while an operator is progressing; --force saves it as __POSSIBLY_DIRTY__', async () => {
    // An operator etcd-ops does not run, so nothing rewrites its status behind the test's back.
    const opKey = '/kubernetes.io/operator.openshift.io/kubeschedulers/cluster';
    const progressing = {
      apiVersion: 'operator.openshift.io/v1',
      kind: 'KubeScheduler',
      metadata: { name: 'cluster' },
      status: {
        conditions: [
          { type: 'Degraded', status: 'False' },
          { type: 'NodeInstallerProgressing', status: 'True', reason: 'NodeInstaller', message: '1 node is at revision 6; 2 nodes are at revision 7' },
        ],
      },
    };
    await client.put(opKey).value(JSON.stringify(progressing));
    try {
      const dir = join(work, 'three');
      const refused = await h.cli(['backup', dir], { timeoutMs: 60_000 });
      assertOneLineError(refused, /^etcd-ops: Currently the kube-scheduler operator is progressing\. A reliable backup requires that a rollout is not in progress\.  Aborting!$/);
      assert.deepEqual(readdirSync(dir), [], 'a refused backup leaves no files');

      const forced = await h.cli(['backup', dir, '--force'], { timeoutMs: 60_000 });
      assert.equal(forced.code, 0, forced.stderr);
      const files = backupFiles(dir);
      assert.match(basename(files.snapshot), /^snapshot_\d{4}-\d\d-\d\d_\d{6}__POSSIBLY_DIRTY__\.db$/);
      assert.match(basename(files.bundle), /^static_kuberesources_\d{4}-\d\d-\d\d_\d{6}__POSSIBLY_DIRTY__\.tar\.gz$/);
      const report = await inspectBackup({ path: dir });
      assert.equal(report.snapshot.possiblyDirty, true);
      assert.equal(report.bundle?.manifest?.possiblyDirty, true);
      assert.ok(report.warnings.some((w) => w.code === 'possibly-dirty' && w.level === 'warning'));
    } finally {
      await client.delete().key(opKey);
    }
  });

  it('a host whose member is down: one line naming it and what to do, and no files left', async () => {
    const p = hostPaths(h.home, 'master-1');
    const manifest = join(p.manifests, 'etcd-pod.yaml');
    const aside = join(work, 'etcd-pod.yaml.aside');
    const [port] = await freePorts(1);
    const dir = join(work, 'down');
    const nobody = join(work, 'nobody');
    renameSync(manifest, aside);
    try {
      const [down, refused] = await Promise.all([
        h.cli(['backup', dir, '--host', 'master-1'], { timeoutMs: 60_000 }),
        runCli(['backup', nobody, '--endpoints', `http://127.0.0.1:${port}`, '--dial-timeout', '1s'], { timeoutMs: 30_000 }),
      ]);
      assertOneLineError(down, /^etcd-ops: master-1: it has revisions but no manifest .*etcd-pod\.yaml, so its etcd member is not running: put the manifest back .* or back up another host with --host$/);
      assert.deepEqual(readdirSync(dir), []);
      assertOneLineError(refused, /^etcd-ops: the etcd member http:\/\/127\.0\.0\.1:\d+ does not answer \(connection refused\)/);
      assert.ok(!existsSync(nobody) || readdirSync(nobody).length === 0);
    } finally {
      renameSync(aside, manifest);
    }
  });
});
