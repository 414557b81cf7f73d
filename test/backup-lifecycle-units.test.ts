/**
 * The pure cores of the backup lifecycle: schedules (cron in a time zone, a missed time runs once),
 * retention (a number, a size, never the newest good backup, never one being read), admission of
 * schedules, where a backup runs and goes, and what counts as a complete (remote) backup.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cronError, timeZoneError } from '../src/apiserver/backups.js';
import { catalog, stampTime } from '../src/backup/catalog.js';
import { chooseHost, claimTarget } from '../src/backup/placement.js';
import { GB, planRetention, type RetainedBackup } from '../src/backup/retention.js';
import { dueTime, intervalSeconds, lastFireTime, runName } from '../src/backup/schedule.js';
import { RECORD_API_VERSION, RECORD_KIND, type BackupRecord } from '../src/backup/record.js';

describe('schedule', () => {
  const every15 = { schedule: '*/15 * * * *' };
  it('runs the newest missed time once, and nothing before the schedule existed', () => {
    const since = new Date('2026-06-30T10:00:00Z');
    assert.equal(dueTime(every15, new Date('2026-06-30T10:14:59Z'), since), undefined);
    assert.equal(dueTime(every15, new Date('2026-06-30T10:15:00Z'), since)?.toISOString(), '2026-06-30T10:15:00.000Z');
    // The operator was down from 10:16 to 11:05: three times were missed, one run is due, for 11:00.
    assert.equal(dueTime(every15, new Date('2026-06-30T11:05:00Z'), new Date('2026-06-30T10:15:00Z'))?.toISOString(), '2026-06-30T11:00:00.000Z');
    assert.equal(dueTime(every15, new Date('2026-06-30T11:05:00Z'), new Date('2026-06-30T11:00:00Z')), undefined, 'that run is recorded: nothing more is due');
    assert.equal(dueTime({ schedule: '' }, new Date(), since), undefined, 'an empty schedule means no backups');
  });
  it('reads the schedule in its IANA time zone, across a daylight saving change', () => {
    const daily2 = { schedule: '0 2 * * *', timeZone: 'Europe/Paris' };
    assert.equal(lastFireTime(daily2, new Date('2026-01-15T12:00:00Z')).toISOString(), '2026-01-15T01:00:00.000Z', 'CET is UTC+1');
    assert.equal(lastFireTime(daily2, new Date('2026-07-15T12:00:00Z')).toISOString(), '2026-07-15T00:00:00.000Z', 'CEST is UTC+2');
    assert.equal(lastFireTime({ schedule: '0 2 * * *' }, new Date('2026-07-15T12:00:00Z')).toISOString(), '2026-07-15T02:00:00.000Z', 'UTC by default');
    assert.equal(intervalSeconds(every15, new Date()), 900);
    assert.equal(intervalSeconds({ schedule: '@daily' }, new Date()), 86_400);
  });
  it('names a run after its scheduled minute, as CronJob names Jobs', () => {
    assert.equal(runName('nightly', new Date('2026-06-30T10:15:00Z')), `nightly-${Date.parse('2026-06-30T10:15:00Z') / 60_000}`);
  });
  it('admits 5-field crons and @macros, IANA zones only', () => {
    for (const ok of ['* * * * *', '*/5 1-3 * * 1,3', '0 0 1 1 *', '@hourly', '@daily']) assert.equal(cronError(ok), undefined, ok);
    assert.match(cronError('* * * *')!, /5 fields .* this one has 4/);
    assert.match(cronError('0 * * * * *')!, /this one has 6/);
    assert.match(cronError('61 * * * *')!, /61/);
    assert.match(cronError('@every 5m')!, /5 fields/);
    assert.equal(timeZoneError('Europe/Paris'), undefined);
    assert.equal(timeZoneError('UTC'), undefined);
    assert.match(timeZoneError('Mars/Olympus')!, /not an IANA time zone/);
  });
});

describe('retention', () => {
  const b = (id: string, minute: number, gb = 1, extra: Partial<RetainedBackup> = {}): RetainedBackup => ({ id, time: minute * 60_000, bytes: gb * GB, good: true, inUse: false, ...extra });
  const ids = (xs: RetainedBackup[]) => xs.map((x) => x.id);
  it('keeps N, counting the one about to be made, oldest removed first', () => {
    const all = [b('a', 1), b('b', 2), b('c', 3), b('d', 4)];
    assert.deepEqual(ids(planRetention(all, { type: 'RetentionNumber', maxNumberOfBackups: 3 }).remove), ['a', 'b']);
    assert.deepEqual(ids(planRetention(all, { type: 'RetentionNumber', maxNumberOfBackups: 15 }).remove), []);
  });
  it('keeps under the size limit, the next backup included, with no gaps', () => {
    const all = [b('a', 1, 1), b('b', 2, 3), b('c', 3, 1), b('d', 4, 2)];
    // 10 GB: the incoming 4 GB + d 2 + c 1 = 7; b would make 10... fits; a would make 11.
    assert.deepEqual(ids(planRetention(all, { type: 'RetentionSize', maxSizeOfBackupsGb: 10 }, 4 * GB).remove), ['a']);
    assert.deepEqual(ids(planRetention(all, { type: 'RetentionSize', maxSizeOfBackupsGb: 5 }, 1 * GB).remove), ['a', 'b'], 'a small old one after a big one goes too');
  });
  it('never removes the newest good backup, nor one being read', () => {
    const all = [b('old', 1), b('good', 2), b('bad1', 3, 1, { good: false }), b('bad2', 4, 1, { good: false })];
    const p = planRetention(all, { type: 'RetentionNumber', maxNumberOfBackups: 1 });
    assert.deepEqual(ids(p.remove), ['old', 'bad1', 'bad2']);
    assert.deepEqual(ids(p.keep), ['good']);
    assert.match(p.notes.join('\n'), /good is over the retention policy but kept: it is the newest good backup/);
    const reading = planRetention([b('a', 1, 1, { inUse: true }), b('b', 2), b('c', 3)], { type: 'RetentionSize', maxSizeOfBackupsGb: 1 }, GB);
    assert.deepEqual(ids(reading.remove), ['b']);
    assert.deepEqual(ids(reading.keep).sort(), ['a', 'c']);
  });
});

describe('placement', () => {
  const m = (host: string, healthy: boolean, isLeader: boolean) => ({ host, endpoint: `https://${host}:2379`, healthy, isLeader });
  it('prefers a healthy follower, takes the leader only when it is the only healthy one', () => {
    assert.deepEqual(chooseHost([m('a', true, true), m('b', true, false), m('c', true, false)]), { host: 'b', endpoint: 'https://b:2379', leader: false });
    assert.deepEqual(chooseHost([m('a', true, true), m('b', false, false)]), { host: 'a', endpoint: 'https://a:2379', leader: true });
    assert.match((chooseHost([m('a', false, false)]) as { error: string }).error, /no healthy etcd member/);
    assert.deepEqual(chooseHost([m('a', true, true), m('b', true, false)], ['a']), { host: 'a', endpoint: 'https://a:2379', leader: true }, "a local volume's host");
  });
  it('finds a claim\'s volume: hostPath anywhere, local on its node affinity', () => {
    const pvc = { metadata: { name: 'c' }, spec: { volumeName: 'v' } };
    const hp = { metadata: { name: 'v' }, spec: { hostPath: { path: '/b' } } };
    const local = { metadata: { name: 'v' }, spec: { local: { path: '/l' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['master-2'] }] }] } } } };
    assert.deepEqual(claimTarget('c', pvc, [hp]), { path: '/b', volume: 'v' });
    assert.deepEqual(claimTarget('c', pvc, [local]), { path: '/l', volume: 'v', hosts: ['master-2'] });
    assert.match((claimTarget('c', undefined, []) as { error: string }).error, /does not exist/);
    assert.match((claimTarget('c', { metadata: { name: 'c' }, spec: {} }, []) as { error: string }).error, /not bound/);
    assert.deepEqual(claimTarget('c', { metadata: { name: 'c' }, spec: {} }, [{ metadata: { name: 'w' }, spec: { hostPath: { path: '/w' }, claimRef: { name: 'c', namespace: 'openshift-etcd' } } }]), { path: '/w', volume: 'w' });
  });
});

describe('catalog', () => {
  const rec = (stamp: string, files: Array<[string, number]>): BackupRecord => ({ apiVersion: RECORD_API_VERSION, kind: RECORD_KIND, stamp, createdAt: '2026-06-30T06:15:02.000Z', possiblyDirty: false, revision: 9, encrypted: true, files: files.map(([name, size]) => ({ name, size })) });
  it('pairs plain and .age files by stamp; a remote copy is complete only with its record and the sizes it names', () => {
    const s = '2026-06-30_061502';
    const files = [
      { name: `snapshot_${s}.db.age`, size: 100 },
      { name: `static_kuberesources_${s}.tar.gz.age`, size: 10 },
      { name: `backup_${s}.json`, size: 5 },
      { name: 'snapshot_2026-06-30_071502.db.age', size: 40 },
      { name: 'static_kuberesources_2026-06-30_071502.tar.gz.age', size: 10 },
    ];
    const good = rec(s, [[`snapshot_${s}.db.age`, 100], [`static_kuberesources_${s}.tar.gz.age`, 10]]);
    const out = catalog(files, new Map([[`backup_${s}.json`, good]]), { requireRecord: true });
    assert.deepEqual(out.map((e) => [e.stamp, e.complete, e.encrypted, e.bytes, e.problem]), [
      [s, true, true, 110, undefined],
      ['2026-06-30_071502', false, true, 50, 'no record: the copy did not finish'],
    ]);
    const short = catalog(files.map((f) => (f.name.startsWith('snapshot_2026-06-30_0615') ? { ...f, size: 60 } : f)), new Map([[`backup_${s}.json`, good]]), { requireRecord: true });
    assert.match(short[0]!.problem!, /is 60 bytes, its record says 100/);
    const local = catalog([{ name: 'snapshot_2026-06-30_081502__POSSIBLY_DIRTY__.db', size: 1 }, { name: 'static_kuberesources_2026-06-30_081502__POSSIBLY_DIRTY__.tar.gz', size: 1 }], new Map(), { requireRecord: false });
    assert.deepEqual(local.map((e) => [e.complete, e.possiblyDirty, e.time]), [[true, true, stampTime('2026-06-30_081502')]]);
  });
});
