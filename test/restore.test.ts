import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { hostPaths } from '../src/home/layout.js';
import { restorePaths } from '../src/recovery/paths.js';
import { waitFor } from '../src/util/time.js';
import { assertOneLineError, projectRoot, type CliResult } from './helpers/cli.js';
import { backupFiles } from './helpers/backups.js';
import { bins } from './helpers/etcd.js';
import { tempDir, trackPid, untrackPid } from './helpers/cleanup.js';
import { etcdctlFlags, upHome, type TestHome } from './helpers/home.js';
import type { ClusterFile } from '../src/home/cluster-file.js';
import { kubectl } from './helpers/kube.js';
import { storedValues } from './helpers/etcdvalues.js';

const DAMAGE = Buffer.alloc(64, 0x5a);
const SEED_ENCRYPTED = `{range .items[0].status.conditions[?(@.type=="Encrypted")]}{.reason}{"\\n"}{.message}{"\\n"}`;
const SEED_INSTALLER = `{range .items[0].status.conditions[?(@.type=="NodeInstallerProgressing")]}{.reason}{"\\n"}{.message}{"\\n"}`;

/** Every path under the hosts, with size and mtime for files, leaving out what a running host rewrites by itself (logs, pod status, etcd's own files). */
function tree(home: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const rel = relative(home, p);
      if (/^hosts\/[^/]+\/var\/(log|lib\/kubelet)(\/|$)|^hosts\/[^/]+\/var\/lib\/etcd\/member\/|^lb\//.test(rel)) continue;
      const st = lstatSync(p);
      out.set(rel, st.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(home);
  return out;
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs the CLI; SIGKILLs it as soon as a line of its output matches `killAt` (as a crash would). */
function runKilledAt(args: string[], killAt: RegExp | undefined, timeoutMs: number): Promise<CliResult & { killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${projectRoot}bin/etcd-ops.js`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackPid(child.pid!);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (killAt && !killed && stdout.split('\n').some((l) => killAt.test(l))) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcd-ops ${args.join(' ')} took more than ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      untrackPid(child.pid!);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

function sh(script: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function etcdctl(h: TestHome, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bins.etcdctl, [...h.etcdctlArgs, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pv(name: string, path: string) {
  return { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path } } };
}

/** Polls one of the seed's jsonpath checks until its output matches. */
async function seedSays(h: TestHome, resource: string, jsonpath: string, want: RegExp, timeoutMs: number): Promise<string> {
  return waitFor(`${resource}: ${want}`, timeoutMs, () => {
    const r = kubectl(h, ['get', resource, `-o=jsonpath=${jsonpath}`]);
    return r.code === 0 && want.test(r.stdout) ? r.stdout : undefined;
  }, 1000);
}

/**
 * The seed's recovery on a 3-host control plane with encryption on: bad backups refused before
 * anything changes, the one command (killed at three steps and run again), and the manual path
 * as a user types it, on a recovery host whose data dir is damaged.
 */
describe('restore: the seed\'s recovery procedure', { timeout: 600_000 }, () => {
  let h: TestHome;
  let backupDir: string;
  const work = tempDir('etcd-ops-restore-');

  before(async () => {
    h = await upHome();
    const enc = await h.cli(['encryption', 'enable', 'aescbc', '--wait'], { timeoutMs: 240_000 });
    assert.equal(enc.code, 0, enc.stderr);
    const data = { apiVersion: 'v1', kind: 'List', items: [] as unknown[] };
    for (const ns of ['app-1', 'app-2']) {
      data.items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      for (let i = 0; i < 5; i++) {
        data.items.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i}`, namespace: ns }, stringData: { password: `${ns}-secret-${i}` } });
        data.items.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns }, data: { v: `${ns}-${i}` } });
      }
    }
    data.items.push(pv('data-pv', '/mnt/disks/a'));
    const r = kubectl(h, ['create', '-f', '-'], { input: JSON.stringify(data) });
    assert.equal(r.code, 0, r.stderr);
    backupDir = join(work, 'backup');
    // A backup refuses while a rollout is under way, as cluster-backup.sh does: try until quiet.
    await waitFor('a backup', 120_000, async () => ((await h.cli(['backup', backupDir], { timeoutMs: 60_000 })).code === 0 ? true : undefined), 1000);
  });
  after(async () => {
    await h?.destroy();
  });

  it('refuses bad backups before anything changes: other stamp, other snapshot, version skew, no keys, truncated; and beside a quorum', async () => {
    const b1 = backupFiles(backupDir);
    const other = join(work, 'other');
    assert.equal(kubectl(h, ['create', 'namespace', 'between']).code, 0);
    assert.equal((await h.cli(['backup', other, '--force'], { timeoutMs: 60_000 })).code, 0);
    const b2 = backupFiles(other);
    const bad = (name: string, files: Array<[string, string]>) => {
      const d = join(work, name);
      mkdirSync(d);
      for (const [from, to] of files) copyFileSync(from, join(d, to));
      return d;
    };
    const later = basename(b2.bundle).replace(b2.stamp, '2099-01-01_000000');
    const stamps = bad('stamps', [[b1.snapshot, basename(b1.snapshot)], [b1.bundle, basename(b1.bundle)], [b2.bundle, later]]);
    const swapped = bad('swapped', [[b1.snapshot, basename(b1.snapshot)], [b2.bundle, basename(b1.bundle)]]);
    const truncated = bad('truncated', [[b1.snapshot, basename(b1.snapshot)], [b1.bundle, basename(b1.bundle)]]);
    truncateSync(join(truncated, basename(b1.snapshot)), statSync(b1.snapshot).size - 4096);
    // The archive's own files, changed with tar as an admin could: another version, no keys.
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    assert.equal(spawnSync('tar', ['-C', unpacked, '-xzf', b1.bundle]).status, 0);
    const manifestPath = join(unpacked, 'etcd-ops-backup.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const entries = spawnSync('tar', ['-tzf', b1.bundle], { encoding: 'utf8' }).stdout.trim().split('\n');
    const skew = bad('skew', [[b1.snapshot, basename(b1.snapshot)]]);
    const skewed = { ...manifest, etcd: { ...manifest.etcd, version: '3.4.9' } };
    assert.equal(spawnSync('sh', ['-c', `cp -a "${unpacked}" "${unpacked}-skew" && printf '%s' '${JSON.stringify(skewed)}' > "${unpacked}-skew/etcd-ops-backup.json" && tar -C "${unpacked}-skew" -czf "${join(skew, basename(b1.bundle))}" ${entries.filter((e) => !e.endsWith('/') || e === 'etcd-ops-backup.json').map((e) => `'${e}'`).join(' ')}`]).status, 0);
    const nokeys = bad('nokeys', [[b1.snapshot, basename(b1.snapshot)]]);
    const kept = entries.filter((e) => !e.includes('secrets/encryption-config'));
    assert.ok(kept.length < entries.length, 'the archive held encryption configs');
    assert.equal(spawnSync('tar', ['-C', unpacked, '--no-recursion', '-czf', join(nokeys, basename(b1.bundle)), ...kept]).status, 0);

    const before = tree(h.home);
    const backups = [b1.snapshot, b1.bundle].map(sha);
    const cases: Array<[string[], RegExp]> = [
      [['restore', stamps, '--yes'], /are the newest of .* but not one backup \(stamps \d{4}-\d\d-\d\d_\d{6} and 2099-01-01_000000\)/],
      [['restore', swapped, '--yes'], /do not belong together: static_kuberesources_.* belongs to snapshot_.*__POSSIBLY_DIRTY__\.db \(database sha256 [0-9a-f]{12}…\), not to snapshot_/],
      [['restore', truncated, '--yes'], /^etcd-ops: Backup integrity verification failed\. Backup appears corrupted\. Aborting! \(/],
      [['restore', skew, '--yes'], /taken with etcd 3\.4\.9 \(this control plane runs 3\.4\.\d+\): restore only a backup of the same release .* or pass --ignore-version-skew/],
      [['restore', nokeys, '--yes'], /the backup's keys cannot decrypt its data: .* encrypted with aescbc key .*which no EncryptionConfiguration in the archive has/],
      [['restore', backupDir, '--host', 'master-0'], /master-1 and master-2 still run etcd members, 2 of the cluster's 3: a quorum .* --force restores anyway$/],
    ];
    const results = await Promise.all(cases.map(([args]) => h.cli(args, { timeoutMs: 60_000 })));
    results.forEach((r, i) => assertOneLineError(r, cases[i]![1]));
    const usage = await h.cli(['restore', join(work, 'nowhere')]);
    assertOneLineError(usage, /nowhere is not a directory$/);
    assert.match(usage.stdout, /^Path to the directory containing backup files is required: \.\/cluster-restore\.sh <path-to-backup>\n/);
    // The override is honoured: with it, the skewed backup passes every check (the preview changes nothing).
    const preview = await h.cli(['restore', skew, '--preview', '--ignore-version-skew'], { timeoutMs: 60_000 });
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /^Restore preview: /);

    assert.deepEqual(tree(h.home), before, 'no file of the home changed');
    assert.deepEqual([b1.snapshot, b1.bundle].map(sha), backups, 'the backup is untouched');
    const members = await h.cli(['member', 'list']);
    assert.equal(members.stdout.trim().split('\n').length, 3);

    // --preview against the live cluster, after storage and credentials changed since the backup.
    assert.equal(kubectl(h, ['delete', 'pv', 'data-pv']).code, 0);
    const changes = [
      pv('data-pv', '/mnt/disks/b'),
      { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'local-pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/dev/disk/by-id/nvme-new' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['master-0'] }] }] } } } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'claim', namespace: 'app-1' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'local-pv' } },
      { apiVersion: 'storage.k8s.io/v1', kind: 'VolumeAttachment', metadata: { name: 'va-0' }, spec: { attacher: 'local.etcd-ops.io', nodeName: 'master-0', source: { persistentVolumeName: 'local-pv' } } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-login', namespace: 'app-1' }, type: 'kubernetes.io/basic-auth', stringData: { username: 'u', password: 'p' } },
    ];
    const made = kubectl(h, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: changes }) });
    assert.equal(made.code, 0, made.stderr);
    const unchanged = tree(h.home);
    const [text, json] = await Promise.all([h.cli(['restore', backupDir, '--preview'], { timeoutMs: 60_000 }), h.cli(['restore', backupDir, '--preview', '-w', 'json'], { timeoutMs: 60_000 })]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^namespaces:\n {2}lose {6}1: between$/m);
    assert.match(text.stdout, /^persistentvolumes:\n {2}revert {4}1: data-pv\n {2}lose {6}1: local-pv$/m);
    assert.match(text.stdout, /^ {4}persistentvolumes data-pv \(revert\): the backup has it on \/mnt\/disks\/a, the cluster now on \/mnt\/disks\/b: /m);
    assert.match(text.stdout, /^ {4}persistentvolumes local-pv \(lose\): a local volume on \/dev\/disk\/by-id\/nvme-new that the backup does not know/m);
    assert.match(text.stdout, /^ {4}persistentvolumeclaims app-1\/claim \(lose\): created since the backup/m);
    assert.match(text.stdout, /^ {4}volumeattachments\.storage\.k8s\.io va-0 \(lose\): /m);
    assert.match(text.stdout, /^ {4}secrets app-1\/registry-login \(lose\): a kubernetes\.io\/basic-auth Secret created since the backup/m);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(report.risks.map((x: { kind: string }) => x.kind).sort(), ['credentials', 'local-volume', 'local-volume', 'storage', 'storage', 'storage', 'storage']);
    assert.deepEqual(tree(h.home), unchanged, 'the preview changed nothing');
  });

  it('data deleted, 2 of 3 hosts lost, the recovery host damaged: the one command, killed at three steps and run again, then host replace twice; every object back, encrypted, and revisions never go backwards', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(join(h.home, 'kubeconfig'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // A client-node informer across the whole restore, recording what its watches and lists say.
    const rvs: number[] = [];
    let gone = 0;
    let lists = 0;
    const watch = new k8s.Watch(kc);
    const seenWatch: typeof watch.watch = (path, params, cb, done) =>
      watch.watch(path, params, (phase, obj, raw) => {
        if (phase === 'ERROR' && (obj as { code?: number }).code === 410) gone++;
        else if ((obj as k8s.KubernetesObject).metadata?.resourceVersion) rvs.push(Number((obj as k8s.KubernetesObject).metadata!.resourceVersion));
        cb(phase, obj, raw);
      }, done);
    const informer = new k8s.ListWatch<k8s.V1ConfigMap>('/api/v1/configmaps', { watch: seenWatch } as unknown as k8s.Watch, async () => {
      const list = await core.listConfigMapForAllNamespaces();
      lists++;
      rvs.push(Number(list.metadata!.resourceVersion));
      return list;
    }, false);
    let stopped = false;
    informer.on(k8s.ERROR, () => {
      if (!stopped) setTimeout(() => void informer.start().catch(() => {}), 500);
    });
    await informer.start();
    try {
      const del = kubectl(h, ['delete', 'namespace', 'app-1', 'app-2']);
      assert.equal(del.code, 0, del.stderr);
      assert.equal(kubectl(h, ['create', 'namespace', 'lost-1']).code, 0);
      await waitFor('the informer to see the deletes', 30_000, () => (informer.list('app-1').length === 0 ? true : undefined), 200);
      const listsBefore = lists;
      const oldRev = Number(JSON.parse(etcdctl(h, ['get', 'x', '-w', 'json']).stdout).header.revision);
      const seenBefore = Math.max(...rvs);

      // Two hosts lost with their disks; the third's db damaged (both meta pages) while it is down.
      for (const host of ['master-1', 'master-2']) {
        assert.equal((await h.cli(['host', 'kill', host])).code, 0);
        rmSync(hostPaths(h.home, host).root, { recursive: true, force: true });
      }
      assert.equal((await h.cli(['host', 'stop', 'master-0'], { timeoutMs: 30_000 })).code, 0);
      const db = join(hostPaths(h.home, 'master-0').etcdDataDir, 'member/snap/db');
      const fd = openSync(db, 'r+');
      for (const page of [0, 1]) writeSync(fd, DAMAGE, 0, DAMAGE.length, page * 4096 + 16);
      closeSync(fd);
      assert.equal((await h.cli(['host', 'start', 'master-0'], { timeoutMs: 30_000 })).code, 0);

      const args = ['restore', backupDir, '--yes', '--home', h.home];
      const kills = [/^\[2\/7\] /, /^restoring to a single node cluster$/, /^ {4}etcd on master-0 at a new revision: /];
      const runs: Array<CliResult & { killed: boolean }> = [];
      for (const killAt of kills) {
        const r = await runKilledAt(args, killAt, 240_000);
        assert.ok(r.killed, `killed at ${killAt}:\n${r.stdout}\n${r.stderr}`);
        runs.push(r);
      }
      const last = await runKilledAt(args, undefined, 300_000);
      assert.equal(last.code, 0, `${last.stdout}\n${last.stderr}`);
      const all = [...runs, last].map((r) => r.stdout).join('');
      assert.match(runs[0]!.stdout, /^Lost hosts \(their folders are gone\): master-1, master-2\./m);
      for (const r of [runs[1]!, runs[2]!, last]) assert.match(r.stdout, /^Resuming the restore started at .*: \d of 7 steps are done/m);
      assert.match(last.stdout, /^\[5\/7\] done before: wait for a healthy single-member control plane/m);
      assert.match(all, /^\.\.\.stopping etcd-pod\.yaml$/m);
      assert.match(all, /^Moving etcd data-dir .*\/hosts\/master-0\/var\/lib\/etcd\/member to .*\/hosts\/master-0\/var\/lib\/etcd-backup$/m);
      assert.match([...runs, last].map((r) => r.stderr).join(''), /note: cannot read the revision of .*\/master-0\/var\/lib\/etcd-backup\/member: .*; left out of the bump/);
      assert.match(all, /^starting restore-etcd static pod\nsnapshot is at revision \d+\nno moved-aside data dir to read a revision from .*: bumping revisions by 1000000000\nrestoring to a single node cluster$/m);
      assert.match(last.stdout, /^Lost hosts not brought back: master-1, master-2: replace each with `etcd-ops host replace <host>`\.$/m);
      const kept = readFileSync(join(restorePaths(h.home, 'master-0').etcdBackup, 'member/snap/db'));
      assert.deepEqual(kept.subarray(16, 16 + DAMAGE.length), DAMAGE, 'the damaged data dir is kept as it was');
      const journal = JSON.parse(readFileSync(restorePaths(h.home, 'master-0').journal, 'utf8'));
      assert.ok(journal.finishedAt);
      assert.equal(journal.bump, '1000000000');

      // The lost hosts replaced, as deleting their Machines would: 3 healthy voting members.
      for (const [dead, born] of [['master-1', 'master-3'], ['master-2', 'master-4']]) {
        const r = await h.cli(['host', 'replace', dead], { timeoutMs: 300_000 });
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^${born}: created `, 'm'));
        assert.match(r.stdout, new RegExp(`^${born} replaces ${dead}: `, 'm'));
      }
      const list = JSON.parse((await h.cli(['member', 'list', '-w', 'json'])).stdout).members as Array<{ name: string; isLearner?: boolean }>;
      assert.deepEqual(list.map((m) => m.name).sort(), ['master-0', 'master-3', 'master-4']);
      assert.ok(list.every((m) => !m.isLearner));
      const health = await h.cli(['endpoint', 'health', '--cluster']);
      assert.equal(health.code, 0, health.stdout + health.stderr);
      assert.equal((health.stderr.match(/ is healthy: /g) ?? []).length, 3, health.stderr);
      const nodes = kubectl(h, ['get', 'nodes', '--no-headers']);
      assert.deepEqual(nodes.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' ')).sort(), ['master-0 Ready', 'master-3 Ready', 'master-4 Ready']);
      // The members are others now: etcdctl and the test's client go to them.
      const now = JSON.parse(readFileSync(join(h.home, 'cluster.json'), 'utf8')) as ClusterFile;
      h.etcdctlArgs = etcdctlFlags(h.home, now);
      h.conn = { ...h.conn, endpoints: now.hosts.map((x) => x.clientURL) };

      // Every object is back and readable, and stored encrypted; nothing created since is.
      const secret = kubectl(h, ['get', 'secret', 's-3', '-n', 'app-2', '-o', 'jsonpath={.data.password}']);
      assert.equal(Buffer.from(secret.stdout, 'base64').toString(), 'app-2-secret-3');
      assert.equal(kubectl(h, ['get', 'configmaps', '-n', 'app-1', '-o', 'name']).stdout.trim().split('\n').filter((n) => /cm-\d/.test(n)).length, 5);
      assert.notEqual(kubectl(h, ['get', 'namespace', 'lost-1']).code, 0, 'created after the backup: lost');
      const stored = await storedValues(h.conn, '/kubernetes.io/secrets/app-1/');
      assert.equal(stored.size, 5);
      for (const v of stored.values()) assert.match(v.subarray(0, 30).toString('latin1'), /^k8s:enc:aescbc:v1:/);
      await seedSays(h, 'kubeapiserver', SEED_ENCRYPTED, /^EncryptionCompleted\nAll resources encrypted: secrets, configmaps\n/, 60_000);

      // Revisions: the old ones are compacted, the next write lands above the bump.
      const snapRev = BigInt(JSON.parse(spawnSync(process.execPath, [`${projectRoot}bin/etcd-ops.js`, 'snapshot', 'status', '-w', 'json', backupFiles(backupDir).snapshot], { encoding: 'utf8' }).stdout).revision);
      const old = etcdctl(h, ['get', '/kubernetes.io/namespaces/default', `--rev=${oldRev}`]);
      assert.notEqual(old.code, 0);
      assert.match(old.stderr, /required revision has been compacted/);
      assert.equal(kubectl(h, ['create', 'configmap', 'after', '-n', 'app-1', '--from-literal=a=b']).code, 0, 'writes work');
      const put = BigInt(JSON.parse(etcdctl(h, ['get', '/kubernetes.io/configmaps/app-1/after', '-w', 'json']).stdout).kvs[0].mod_revision);
      assert.ok(put > snapRev + 1_000_000_000n, `the write's revision ${put} is above the bumped ${snapRev + 1_000_000_000n}`);

      await waitFor('the informer to see the write', 60_000, () => (informer.get('after', 'app-1') ? true : undefined), 200);
      assert.ok(gone >= 1, 'the informer was told 410 Gone');
      assert.ok(lists > listsBefore, 'and listed again');
      const seen = rvs.slice(rvs.indexOf(seenBefore));
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `resourceVersions went ${seen[i - 1]} → ${seen[i]}`);
      assert.ok(informer.list('app-2').length >= 5, 'the informer has the restored objects');
    } finally {
      stopped = true;
      await informer.stop();
    }
  });

  it('the manual path, step by step as a user types it', async () => {
    const dir = join(work, 'manual');
    const [a, b, c] = JSON.parse(readFileSync(join(h.home, 'cluster.json'), 'utf8')).hosts.map((x: { name: string }) => x.name) as string[];
    assert.equal(kubectl(h, ['create', 'namespace', 'manual-keep']).code, 0);
    await waitFor('a backup', 120_000, async () => ((await h.cli(['backup', dir], { timeoutMs: 60_000 })).code === 0 ? true : undefined), 1000);
    assert.equal(kubectl(h, ['delete', 'namespace', 'manual-keep']).code, 0);
    assert.equal(kubectl(h, ['create', 'namespace', 'manual-lost']).code, 0);

    // 1. On the other hosts: move the static pod manifests and the data dir away.
    for (const host of [b!, c!]) {
      const root = hostPaths(h.home, host).root;
      const r = sh(`cd "${root}" && mkdir -p tmp && mv etc/kubernetes/manifests/etcd-pod.yaml tmp/ && mv etc/kubernetes/manifests/kube-apiserver-pod.yaml tmp/ && mv var/lib/etcd/ tmp/`);
      assert.equal(r.code, 0, r.stderr);
    }
    // 2. cluster-restore.sh on the recovery host.
    const script = join(hostPaths(h.home, a!).root, 'usr/local/bin/cluster-restore.sh');
    const r = await new Promise<CliResult>((resolve) => {
      const child = spawn(script, [dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const root = hostPaths(h.home, a!).root;
    assert.match(r.stdout, /^\.\.\.stopping etcd-pod\.yaml\n/m);
    assert.match(r.stdout, /^\.\.\.stopping kube-apiserver-pod\.yaml\n/m);
    assert.match(r.stdout, /^Waiting for container etcd to stop\n\.*complete\n/m);
    assert.ok(r.stdout.includes(`Moving etcd data-dir ${root}/var/lib/etcd/member to ${root}/var/lib/etcd-backup\n`), r.stdout);
    assert.match(r.stdout, /^keeping the previous .*\/var\/lib\/etcd-backup\/member as .*\/var\/lib\/etcd-backup\/member\.moved-/m);
    assert.match(r.stdout, /^starting restore-etcd static pod\n/m);
    const bump = /^bumping revisions by (\d+) \(1\.2 x revision (\d+) of .*\/(tmp\/etcd|var\/lib\/etcd-backup)\/member\)$/m.exec(r.stdout);
    assert.ok(bump, r.stdout);
    assert.equal(BigInt(bump[1]!), (BigInt(bump[2]!) * 12n) / 10n, '1.2 x the highest revision of the moved-aside data dirs');
    assert.match(r.stdout, /^starting kube-apiserver-pod\.yaml\nstatic-pod-resources\/kube-apiserver-pod-\d+\/kube-apiserver-pod\.yaml\n/m);

    // 3. and 4. Force new revisions, as the seed's kubectl patch commands; 5. the seed's checks,
    // until every node is at a revision newer than the restored one.
    const patch = (what: string) => sh(`kubectl patch ${what} cluster -p='{"spec": {"forceRedeploymentReason": "recovery-'"$( date --rfc-3339=ns )"'"}}' --type=merge`, { KUBECONFIG: join(h.home, 'kubeconfig') });
    const latest = (what: string) => waitFor(`${what}'s latest revision`, 60_000, () => {
      const r = kubectl(h, ['get', what, 'cluster', '-o', 'jsonpath={.status.latestAvailableRevision}']);
      return r.code === 0 && /^\d+$/.test(r.stdout) ? Number(r.stdout) : undefined;
    }, 1000);
    const untilNewer = async (what: string, than: number) => {
      const out = await seedSays(h, what, SEED_INSTALLER, /^AllNodesAtLatestRevision\n3 nodes are at revision \d+\n/, 180_000);
      return Number(/revision (\d+)/.exec(out)![1]) > than ? out : undefined;
    };
    await waitFor('the API to answer', 60_000, () => (kubectl(h, ['get', 'etcd', 'cluster']).code === 0 ? true : undefined), 1000);
    for (const what of ['etcd', 'kubeapiserver']) {
      const was = await latest(what);
      // While a member or API server restarts, kubectl can meet a 503: the user types it again.
      await waitFor(`kubectl patch ${what}`, 60_000, () => (patch(what).code === 0 ? true : undefined), 1000);
      await waitFor(`${what} at a revision above ${was}`, 180_000, () => untilNewer(what, was), 1000);
    }
    const list = await h.cli(['member', 'list', '-w', 'json']);
    const members = JSON.parse(list.stdout).members as Array<{ name: string; isLearner?: boolean }>;
    assert.deepEqual(members.map((m) => m.name).sort(), [a, b, c].sort());
    assert.ok(members.every((m) => !m.isLearner));
    assert.equal(kubectl(h, ['get', 'namespace', 'manual-keep']).code, 0);
    assert.notEqual(kubectl(h, ['get', 'namespace', 'manual-lost']).code, 0);
    assert.equal(kubectl(h, ['create', 'namespace', 'manual-after']).code, 0, 'writes work');
  });
});
