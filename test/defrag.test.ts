import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostPaths } from '../src/home/layout.js';
import { compileRule, RuleError } from '../src/defrag/rule.js';
import { thresholdRule } from '../src/defrag/thresholds.js';
import { planDefrag, belowQuotaThreshold, spaceVars, type MemberSpace } from '../src/defrag/plan.js';
import { defragRule, defragSettings } from '../src/operator/defrag.js';
import { waitFor } from '../src/util/time.js';
import { observeMembers } from '../src/defrag/observe.js';
import { runDefrag } from '../src/defrag/run.js';
import { printDefragResults } from '../src/cli/printers/defrag.js';
import { withClient } from '../src/etcd/connection.js';
import { endpointStatus } from '../src/etcd/status.js';
import { assertOneLineError } from './helpers/cli.js';
import { clientFor, fill } from './helpers/fill.js';
import { upHome, type TestHome } from './helpers/home.js';

const bigJson = (t: string) => JSON.parse(t.replace(/:(\d{16,})/g, ':"$1"'));

async function statuses(t: TestHome): Promise<any[]> {
  const r = await t.cli(['endpoint', 'status', '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return bigJson(r.stdout);
}

describe('defrag rules and plans (pure)', () => {
  const m = (name: string, o: Partial<MemberSpace> = {}): MemberSpace => ({
    endpoint: `http://${name}`, name, memberId: BigInt(name.length), isLeader: false, isLearner: false, healthy: true,
    dbSize: 200 * 2 ** 20, dbSizeInUse: 50 * 2 ** 20, dbQuota: 2 ** 31, ...o,
  });

  it('puts the leader last and skips members the rule does not select', () => {
    const plan = planDefrag([m('a', { isLeader: true }), m('b'), m('c', { dbSize: 10 * 2 ** 20, dbSizeInUse: 9 * 2 ** 20 })], { rule: compileRule(thresholdRule()) });
    assert.deepEqual(plan.steps.map((s) => s.member.name), ['b', 'a']);
    assert.deepEqual(plan.skipped.map((s) => [s.member.name, s.reason]), [['c', 'rule not met']]);
  });

  it('refuses when a member is unhealthy unless forced, and never plans a learner', () => {
    const members = [m('a', { isLeader: true }), m('b', { healthy: false, error: 'connection refused' }), m('c', { isLearner: true })];
    assert.match(planDefrag(members, { rule: () => true }).refusal!, /b \(connection refused\) is unhealthy: refusing to defragment/);
    const forced = planDefrag(members, { rule: () => true, force: true });
    assert.equal(forced.refusal, undefined);
    assert.deepEqual(forced.steps.map((s) => s.member.name), ['a']);
  });

  it('moves leadership first only when a healthy follower exists', () => {
    assert.equal(planDefrag([m('a', { isLeader: true }), m('b')], { rule: () => true, moveLeader: true }).steps[1].moveLeaderFirst, true);
    assert.equal(planDefrag([m('a', { isLeader: true })], { rule: () => true, moveLeader: true }).steps[0].moveLeaderFirst, false);
  });

  it('compiles safe rules and rejects everything else with a clear message', () => {
    const vars = { dbSize: 100, dbSizeInUse: 40, dbSizeFree: 60, dbQuota: 1000, dbQuotaUsage: 0.1 };
    assert.equal(compileRule('dbSizeFree / dbSize >= 0.5 && !(dbQuotaUsage > 0.8)')(vars), true);
    assert.equal(compileRule('dbQuotaUsage > 0.8 || dbSize - dbSizeInUse > 200*1024*1024')(vars), false);
    for (const [bad, why] of [['dbSize >', /does not parse/], ['rm(1)', /CallExpression is not allowed/], ['x > 1', /unknown name "x"/], ['dbSize', /must be a condition/], ['this.constructor', /not allowed/]] as const) {
      assert.throws(() => compileRule(bad), (e: Error) => e instanceof RuleError && why.test(e.message), bad);
    }
  });

  it('the default size floor is 100 MiB, or 10 % of the quota when that is less, in the CLI and in the controller', () => {
    const MiB = 2 ** 20;
    const controller = defragRule(defragSettings({ metadata: {}, spec: {} }));
    const cli = compileRule(thresholdRule());
    const space = (dbSize: number, free: number, dbQuota: number) => spaceVars(m('x', { dbSize, dbSizeInUse: dbSize - free, dbQuota }));
    for (const rule of [cli, controller]) {
      // --quota-backend-bytes 64Mi and 99 % fragmented: the 100 MiB floor alone could never be met.
      assert.equal(rule(space(20 * MiB, 19.8 * MiB, 64 * MiB)), true);
      assert.equal(rule(space(6 * MiB, 5.9 * MiB, 64 * MiB)), false, 'under 10 % of the quota');
      assert.equal(rule(space(20 * MiB, 5 * MiB, 64 * MiB)), false, 'not fragmented enough');
      // The default 2 GiB quota: 100 MiB stays the floor.
      assert.equal(rule(space(150 * MiB, 80 * MiB, 2 * 1024 * MiB)), true);
      assert.equal(rule(space(90 * MiB, 85 * MiB, 2 * 1024 * MiB)), false);
    }
  });

  it('lets NOSPACE go only below 90 % of the quota on every member', () => {
    assert.equal(belowQuotaThreshold([{ dbSize: 89, dbQuota: 100 }, { dbSize: 10, dbQuota: 100 }]), true);
    assert.equal(belowQuotaThreshold([{ dbSize: 90, dbQuota: 100 }, { dbSize: 10, dbQuota: 100 }]), false);
  });
});

describe('etcd-ops defrag on a 3-member control plane', { timeout: 180_000 }, () => {
  let t: TestHome;
  before(async () => {
    t = await upHome();
    await fill(t.conn, { prefix: '/frag/', count: 600, size: 16 * 1024, del: true });
    const c = await t.cli(['compact']);
    assert.equal(c.code, 0, c.stderr);
    // A physical compaction returns once the member that served it has compacted; the others apply
    // it from the raft log in their own time, and their size in use drops at their next commit.
    await waitFor('every member to show the compacted space as free', 60_000, async () => {
      const all = await statuses(t);
      return all.every((s) => (Number(s.Status.dbSize) - Number(s.Status.dbSizeInUse)) / Number(s.Status.dbSize) > 0.45) ? true : undefined;
    }, 500);
  });
  after(async () => t?.destroy());

  it('a bad rule gets one clear line before anything runs', async () => {
    const before = await statuses(t);
    assertOneLineError(await t.cli(['defrag', '--rule', 'dbSize >> 1 ||']), /--rule .* does not parse/);
    assertOneLineError(await t.cli(['defrag', '--rule', 'require("fs")']), /not allowed/);
    const after = await statuses(t);
    assert.deepEqual(after.map((s) => s.Status.dbSize), before.map((s) => s.Status.dbSize));
  });

  it('--dry-run shows the plan and changes nothing', async () => {
    const before = await statuses(t);
    const r = await t.cli(['defrag', '--rule', 'dbSizeFree > 0', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plan, one member at a time: .* \(leader, last\)/);
    assert.match(r.stdout, /--dry-run: nothing was changed/);
    const after = await statuses(t);
    assert.deepEqual(after.map((s) => s.Status.dbSize), before.map((s) => s.Status.dbSize));
    // 600 values of 16 KiB written, deleted and compacted away: most of each database is free pages.
    for (const s of before) {
      const free = Number(s.Status.dbSize) - Number(s.Status.dbSizeInUse);
      assert.ok(free > 4 * 2 ** 20 && free / Number(s.Status.dbSize) > 0.45, `fragmented: ${s.Status.dbSizeInUse} of ${s.Status.dbSize} bytes in use`);
    }
  });

  it('defragments followers first and the leader last, and the sizes shrink', async () => {
    const before = await statuses(t);
    const leader = before.find((s) => s.Status.header.member_id === s.Status.leader).Status.leader;
    const r = await t.cli(['defrag', '--rule', 'dbSizeFree > 0', '-w', 'json'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.order.length, 3);
    assert.equal(report.order[2], BigInt(leader).toString(16), 'the leader is last');
    assert.ok(!report.order.slice(0, 2).includes(BigInt(leader).toString(16)));
    const after = await statuses(t);
    for (let i = 0; i < 3; i++) {
      assert.ok(Number(after[i].Status.dbSize) < Number(before[i].Status.dbSize) / 4, `member ${i} shrank: ${before[i].Status.dbSize} → ${after[i].Status.dbSize}`);
    }
    assert.equal((await t.cli(['endpoint', 'health'])).code, 0);
  });

  it('the default rule (45 % and 100 MiB) leaves small members alone', async () => {
    const r = await t.cli(['defrag']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nothing to defragment: no member meets the rule/);
  });

  it('refuses with a clear error while a member is down, and --force defragments the others', async () => {
    const p = hostPaths(t.home, 'master-1');
    const aside = join(t.home, 'etcd-pod.yaml.defrag-test');
    renameSync(join(p.manifests, 'etcd-pod.yaml'), aside);
    try {
      await waitFor('master-1 to stop', 10_000, async () => ((await t.cli(['endpoint', 'status', '--command-timeout', '1s'])).code !== 0 ? true : undefined));
      const r = await t.cli(['defrag', '--rule', 'true', '--command-timeout', '3s']);
      assertOneLineError(r, /master-1 \(.*\) is unhealthy: refusing to defragment; bring it back, or pass --force/);
      const forced = await t.cli(['defrag', '--rule', 'true', '--force', '--command-timeout', '3s', '-w', 'json']);
      assert.equal(forced.code, 0, forced.stderr);
      const report = JSON.parse(forced.stdout);
      assert.equal(report.order.length, 2);
      assert.equal(report.skipped[0].name, 'master-1');
    } finally {
      renameSync(aside, join(p.manifests, 'etcd-pod.yaml'));
    }
    await waitFor('master-1 to return', 30_000, async () => ((await t.cli(['endpoint', 'health'])).code === 0 ? true : undefined), 500);
  });
  it('finding: the summary reports leadership as observed at each step, not as planned (the leader changed mid-run)', async () => {
    const conn = { ...t.conn, commandTimeoutMs: 10_000, dialTimeoutMs: 2000 };
    const targets = t.cluster.hosts.map((h) => ({ endpoint: h.clientURL, name: h.name, metricsURL: h.metricsURL }));
    const { members } = await observeMembers(conn, targets);
    const plan = planDefrag(members, { rule: compileRule('true'), all: true });
    const planned = plan.steps.at(-1)!.member;
    assert.ok(planned.isLeader, 'the plan puts the leader last');
    // After the plan, leadership moves (as when the leader is killed mid-run).
    const to = members.find((m) => !m.isLeader)!;
    await withClient(conn, [planned.endpoint], (c) => c.maintenance.moveLeader({ targetID: to.memberId.toString() }));
    await waitFor('leadership to move', 15_000, async () => ((await endpointStatus(conn, to.endpoint)).status?.leader === to.memberId ? true : undefined), 100);
    const events: string[] = [];
    const results = await runDefrag(conn, targets, plan, { commandTimeoutMs: 30_000, catchUpTimeoutMs: 30_000, minWaitMs: 0, onEvent: (l) => events.push(l) });
    const of = (name?: string) => results.find((r) => r.name === name)!;
    assert.equal(of(planned.name).wasLeader, false, `${planned.name} was no longer the leader at its step`);
    assert.equal(of(to.name).wasLeader, true, `${to.name} was the leader at its step`);
    assert.ok(events.some((e) => e.includes(`${planned.name} is no longer the leader`)), events.join('\n'));
    const table = printDefragResults(results);
    assert.match(table, new RegExp(`${planned.name}[^\n]*\|\s+false\s+\|`));
    assert.equal((await t.cli(['endpoint', 'health'])).code, 0);
  });

  it('compact --keep keeps that much history, from the revision samples the operator records', async () => {
    const c = clientFor(t.conn);
    try {
      await c.put('/keep/k').value('old');
      const old = Number((await c.get('/keep/k').exec()).header.revision);
      await c.put('/keep/k').value('new');
      const recent = Number((await c.get('/keep/k').exec()).header.revision);
      const now = Date.now();
      // Samples as the operator writes them, once a minute; these two stand for ten and one minutes ago.
      await c.put('/etcd-ops.io/revision-samples').value(JSON.stringify({ samples: [
        { time: new Date(now - 10 * 60_000).toISOString(), revision: String(old) },
        { time: new Date(now - 60_000).toISOString(), revision: String(recent) },
      ] }));
      const r = await t.cli(['compact', '--keep', '5m']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), `compacted revision ${old}`);
      await assert.rejects(c.get('/keep/k').revision(old - 1).string(), /compacted/);
      assert.equal(await c.get('/keep/k').revision(old).string(), 'old', 'the kept window still reads');
      assertOneLineError(await t.cli(['compact', '--keep', '1h']), /no revision sample is 3600s old yet/);
      assertOneLineError(await t.cli(['compact', '--keep', '5m', '--revision', '3']), /--keep and --revision exclude each other/);
      assertOneLineError(await t.cli(['compact', '--revision', '1']), /already compacted/);
    } finally {
      c.close();
    }
  });
});
