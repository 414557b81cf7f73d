/**
 * The operator's backup controller in a real 2-host home, everything at once so the minute
 * schedule is waited for only once: a `Backup` with a schedule of every minute makes backups on
 * its own (encrypted to the recipients of a Secret, drilled, pushed through a real `rclone serve
 * webdav`), retention keeps 2, the active operator is SIGKILLed around a scheduled time and no
 * backup is lost or duplicated; a one-off `EtcdBackup` goes to its claim's hostPath volume on
 * a follower's host.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { readAgentStatus } from '../src/agent/status.js';
import { endpointStatuses } from '../src/etcd/status.js';
import { hostPaths } from '../src/home/layout.js';
import { CORE, type KubeClient, type KubeObject } from '../src/kube/client.js';
import { freePorts } from '../src/util/ports.js';
import { sleep, waitFor } from '../src/util/time.js';
import { upHome, type TestHome } from './helpers/home.js';
import { adminClient } from './helpers/kube.js';
import { bins } from './helpers/etcd.js';
import { tempDir, trackPid, untrackPid } from './helpers/cleanup.js';

const BACKUPS = { group: 'config.openshift.io', version: 'v1alpha1', resource: 'backups' };
const ETCDBACKUPS = { group: 'operator.openshift.io', version: 'v1alpha1', resource: 'etcdbackups' };
const cond = (o: KubeObject | undefined, type: string) => (o?.status?.conditions ?? []).find((c: any) => c.type === type);

describe('backup controller: schedule, retention, drills, encryption, push, fail-over', { timeout: 330_000 }, () => {
  let t: TestHome;
  let kube: KubeClient;
  let dav: ChildProcess;
  let leaderHost: string;
  let followerHost: string;
  const work = tempDir('etcd-ops-backup-ctl-');
  const store = join(work, 'webdav');
  let identityFile: string;

  before(async () => {
    t = await upHome(['--hosts', '2']);
    kube = adminClient(t);
    const st = await endpointStatuses({ ...t.conn, commandTimeoutMs: 5000, dialTimeoutMs: 2000 });
    const i = st.findIndex((s) => s.status && s.status.header.member_id === s.status.leader);
    leaderHost = t.cluster.hosts[i]!.name;
    followerHost = t.cluster.hosts[1 - i]!.name;
    const [port] = await freePorts(1);
    mkdirSync(store);
    // The operator runs on a host: with hosts on their own network it reaches the machine through
    // the bridge's address (an address of our own test hosts' network), else through loopback.
    const davHost = t.cluster.network?.mode === 'hosts' ? t.cluster.network.gateway! : '127.0.0.1';
    dav = spawn('rclone', ['serve', 'webdav', '--addr', `${davHost}:${port}`, store], { stdio: 'ignore' });
    trackPid(dav.pid!);
    const id = await generateX25519Identity();
    identityFile = join(work, 'identity.txt');
    writeFileSync(identityFile, `${id}\n`, { mode: 0o600 });
    const enc = (s: string) => Buffer.from(s).toString('base64');
    await kube.create(CORE('secrets', 'openshift-etcd'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'etcd-backup-encryption', namespace: 'openshift-etcd' }, data: { recipients: enc(`${await identityToRecipient(id)}\n`) } });
    await kube.create(CORE('secrets', 'openshift-etcd'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'etcd-backup-remote', namespace: 'openshift-etcd' },
      data: { 'rclone.conf': enc(`[dav]\ntype = webdav\nurl = http://${davHost}:${port}\nvendor = other\n`), remote: enc('dav:etcd-backups') },
    });
  });
  after(async () => {
    if (dav?.exitCode === null) dav.kill('SIGKILL');
    if (dav?.pid) untrackPid(dav.pid);
    await t?.destroy();
  });

  it('scheduled backups every minute, retention keeps 2, a one-off backup to a claim, and an operator SIGKILLed around a scheduled time loses and duplicates nothing', async () => {
    const dir = join(hostPaths(t.home, followerHost).root, 'var/lib/etcd-backups');
    // Two older backups in the schedule's folder, for retention to prune.
    for (const n of [1, 2]) {
      const r = await t.cli(['backup', dir, '--host', followerHost], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      if (n === 1) await sleep(1100);
    }
    const seeds = readdirSync(dir).filter((n) => n.endsWith('.db'));
    assert.equal(seeds.length, 2);

    // The one-off run to a claim's hostPath volume, and the schedule.
    await kube.create(CORE('persistentvolumes'), { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'etcd-backups-pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/var/lib/etcd-backups-pv' } } });
    await kube.create(CORE('persistentvolumeclaims', 'openshift-etcd'), { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'etcd-backups', namespace: 'openshift-etcd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'etcd-backups-pv' } });
    await kube.create(ETCDBACKUPS, { apiVersion: 'operator.openshift.io/v1alpha1', kind: 'EtcdBackup', metadata: { name: 'one-off' }, spec: { pvcName: 'etcd-backups' } });
    const created = await kube.create(BACKUPS, { apiVersion: 'config.openshift.io/v1alpha1', kind: 'Backup', metadata: { name: 'every-minute' }, spec: { etcd: { schedule: '* * * * *', timeZone: 'Europe/Paris', retentionPolicy: { retentionType: 'RetentionNumber', retentionNumber: { maxNumberOfBackups: 2 } } } } });
    assert.equal(created.spec.etcd.drill, 'Enabled', 'defaulted');
    const m1 = Math.ceil((Date.parse(created.metadata.creationTimestamp) + 1) / 60_000) * 60_000;
    const m2 = m1 + 60_000;
    const run = (m: number) => `every-minute-${m / 60_000}`;

    const oneOff = await waitFor('the one-off backup', 90_000, async () => {
      const o = await kube.get(ETCDBACKUPS, 'one-off');
      return cond(o, 'BackupCompleted')?.status === 'True' || cond(o, 'BackupFailed')?.status === 'True' ? o : undefined;
    }, 500);
    assert.equal(cond(oneOff, 'BackupCompleted')?.status, 'True', JSON.stringify(oneOff.status));
    assert.equal(oneOff.status.backup.host, followerHost, `a follower carries the backup, not the leader ${leaderHost}`);
    assert.deepEqual(oneOff.status.backupJob, { namespace: 'openshift-etcd', name: 'one-off' });
    assert.equal(cond(oneOff, 'BackupVerified')?.status, 'True', JSON.stringify(cond(oneOff, 'BackupVerified')));
    const pvDir = join(hostPaths(t.home, followerHost).root, 'var/lib/etcd-backups-pv');
    assert.deepEqual(readdirSync(pvDir).map((n) => n.replace(/\d{4}-\d\d-\d\d_\d{6}/, 'S')).sort(), ['backup_S.json', 'snapshot_S.db.age', 'static_kuberesources_S.tar.gz.age']);

    // SIGKILL the active operator two seconds before the first scheduled time (or at once, if it is that close).
    await sleep(Math.max(0, m1 - 2000 - Date.now()));
    const election = spawnSync(bins.etcdctl, [...t.etcdctlArgs, 'get', '--prefix', 'election/etcd-ops-operator/', '-w', 'json'], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
    const kvs = JSON.parse(election.stdout).kvs.sort((a: any, b: any) => a.create_revision - b.create_revision);
    const activeHost = Buffer.from(kvs[0].value, 'base64').toString();
    const pod = readAgentStatus(hostPaths(t.home, activeHost).podStatusFile)!.pods.find((p) => p.name === `etcd-ops-operator-${activeHost}`)!;
    process.kill(pod.containers[0]!.pid!, 'SIGKILL');

    const done = (name: string) =>
      waitFor(`run ${name}`, Math.max(0, m2 - Date.now()) + 90_000, async () => {
        const o = await kube.getOrUndefined(ETCDBACKUPS, name);
        return o && cond(o, 'BackupCompleted')?.status === 'True' ? o : undefined;
      }, 1000);
    const r1 = await done(run(m1));
    const r2 = await done(run(m2));
    for (const r of [r1, r2]) {
      assert.equal(r.status.backup.host, followerHost);
      assert.equal(cond(r, 'BackupVerified')?.status, 'True', JSON.stringify(cond(r, 'BackupVerified')));
      assert.equal(cond(r, 'BackupPushed')?.status, 'True', JSON.stringify(cond(r, 'BackupPushed')));
    }

    // One backup per scheduled time, none lost, none twice; retention kept the newest 2.
    const records = readdirSync(dir).filter((n) => n.startsWith('backup_')).map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')));
    assert.deepEqual(records.map((r) => r.run).sort(), [run(m1), run(m2)].sort(), JSON.stringify(records.map((r) => [r.run, r.stamp])));
    assert.deepEqual(records.map((r) => r.scheduled.time).sort(), [new Date(m1).toISOString(), new Date(m2).toISOString()]);
    assert.ok(records.every((r) => r.encrypted && r.drill.result === 'Passed'));
    for (const s of seeds) assert.ok(!readdirSync(dir).includes(s), `${s} pruned by retention`);
    assert.equal(readdirSync(dir).filter((n) => n.endsWith('.db.age')).length, 2);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.db') || n.includes('staging')), [], 'no plaintext left');
    const runs = (await kube.list(ETCDBACKUPS)).items.map((o) => o.metadata.name).filter((n) => n.startsWith('every-minute-'));
    assert.deepEqual(runs.sort(), [run(m1), run(m2)].sort());

    const b = await kube.get(BACKUPS, 'every-minute');
    assert.equal(b.status.lastScheduleTime, new Date(m2).toISOString());
    assert.equal(cond(b, 'BackupVerified')?.status, 'True');
    const list = await t.cli(['backup', 'list', '-w', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout).find((f: any) => f.where.startsWith(followerHost)).backups;
    assert.deepEqual(listed.map((x: any) => [x.encrypted, x.complete, x.drill.result]), [[true, true, 'Passed'], [true, true, 'Passed']]);
    const remote = readdirSync(join(store, 'etcd-backups'));
    for (const r of records) for (const f of r.files) assert.ok(remote.includes(f.name), `${f.name} pushed`);

    // The new leader reports from the objects.
    const metricsText = await waitFor('backup metrics', 30_000, async () => {
      for (const h of t.cluster.hosts) {
        const text = await fetch(`${h.operatorMetricsURL}/metrics`).then((x) => x.text()).catch(() => '');
        if (/etcd_ops_backup_last_verified_timestamp_seconds\{backup="every-minute"\} \d/.test(text)) return text;
      }
      return undefined;
    }, 1000);
    assert.match(metricsText, /etcd_ops_backup_last_success_timestamp_seconds\{backup="every-minute"\} \d/);
    assert.match(metricsText, /etcd_ops_backup_schedule_interval_seconds\{backup="every-minute"\} 60\n/);
    assert.match(metricsText, /etcd_ops_backup_last_drill_success\{backup="every-minute"\} 1\n/);
    assert.match(metricsText, /etcd_ops_backup_size_bytes\{backup="every-minute"\} [1-9]/);

    // An encrypted scheduled backup opens with the identity.
    const drill = await t.cli(['backup', 'drill', dir, '--identity', identityFile], { timeoutMs: 60_000 });
    assert.equal(drill.code, 0, drill.stdout + drill.stderr);
  });
});
