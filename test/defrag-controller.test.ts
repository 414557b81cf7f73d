import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ApiError, OPERATOR, type KubeClient } from '../src/kube/client.js';
import { waitFor } from '../src/util/time.js';
import { fill } from './helpers/fill.js';
import { upHome, type TestHome } from './helpers/home.js';
import { adminClient, CORE, kubectl, secret } from './helpers/kube.js';
import { projectRoot } from './helpers/cli.js';

const bigJson = (t: string) => JSON.parse(t.replace(/:(\d{16,})/g, ':"$1"'));

describe('the defrag controller, the operator metrics and NOSPACE through the API', { timeout: 300_000 }, () => {
  let t: TestHome;
  let kube: KubeClient;
  before(async () => {
    t = await upHome(['--quota-backend-bytes', String(20 * 1024 * 1024)]);
    kube = adminClient(t);
    // Off until the test asks: with a 20 MiB quota the floor is 2 MiB, so a periodic run could
    // otherwise defragment the members the test fragments before it measures them.
    await kube.mergePatch(OPERATOR('etcds'), 'cluster', { spec: { unsupportedConfigOverrides: { defrag: { disabled: true } } } });
    await waitFor('the defrag controller to be off', 60_000, async () => {
      const e = await kube.get(OPERATOR('etcds'), 'cluster');
      return (e.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'DefragControllerDisabled' && c.status === 'True') ? true : undefined;
    });
  });
  after(async () => {
    kube?.close();
    await t?.destroy();
  });

  async function sizes(): Promise<Map<string, { size: number; leader: boolean; id: string }>> {
    const r = await t.cli(['endpoint', 'status', '-w', 'json']);
    return new Map(bigJson(r.stdout).map((s: any) => [s.Endpoint, { size: Number(s.Status.dbSize), leader: s.Status.header.member_id === s.Status.leader, id: BigInt(s.Status.header.member_id).toString(16) }]));
  }

  it('defragments fragmented members on request, leader last, with small thresholds set on etcds/cluster', async () => {
    await fill(t.conn, { prefix: '/scratch/', count: 200, size: 32 * 1024, del: true });
    assert.equal((await t.cli(['compact'])).code, 0);
    const before = await sizes();
    for (const s of before.values()) assert.ok(s.size > 6 * 1024 * 1024, `fragmented: ${s.size}`);
    const leaderName = t.cluster.hosts[[...before.values()].findIndex((s) => s.leader)].name;
    await kube.mergePatch(OPERATOR('etcds'), 'cluster', { spec: { unsupportedConfigOverrides: { defrag: { disabled: false, minFragmentationPercent: 10, minDBSizeBytes: 1024 * 1024, request: 'test-1' } } } });
    const state = await waitFor('the controller to finish a run', 120_000, async () => {
      const cm = await kube.getOrUndefined(CORE('configmaps', 'openshift-etcd-operator'), 'etcd-defrag-controller');
      return cm?.data?.lastSuccess && cm.data.lastRequest === 'test-1' ? cm : undefined;
    }, 1000);
    assert.equal(state.data.consecutiveFailures, '0');
    const after = await sizes();
    for (const [ep, s] of after) assert.ok(s.size < before.get(ep)!.size / 2, `${ep}: ${before.get(ep)!.size} → ${s.size}`);
    const events = JSON.parse(kubectl(t, ['get', 'events', '-n', 'openshift-kube-apiserver-operator', '-o', 'json']).stdout).items as any[];
    // The requested run is the newest attempt: a periodic run may have come first (the controller
    // runs at once when it has never run, and with the quota's floor one member may have qualified).
    const time = (e: any) => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp);
    const attempt = events.filter((e) => e.reason === 'DefragControllerDefragmentAttempt').sort((a, b) => time(a) - time(b)).at(-1);
    assert.ok(attempt, 'an attempt event');
    const order = /members: (.*)$/.exec(attempt.message)![1].split(', ');
    assert.equal(order.length, 3);
    assert.equal(order[2], leaderName, 'the leader is last');
    assert.ok(events.filter((e) => e.reason === 'DefragControllerDefragmentSuccess' && time(e) >= time(attempt)).length >= 3);
    const etcd = await kube.get(OPERATOR('etcds'), 'cluster');
    const cond = (type: string) => etcd.status.conditions.find((c: any) => c.type === type);
    assert.equal(cond('DefragControllerDegraded')?.status, 'False');
    assert.equal(cond('DefragControllerDisabled')?.status, 'False');
    assert.match(cond('EtcdMembersAvailable')?.message ?? '', /^3 members are available$/);
  });

  it('can be switched off', async () => {
    await kube.mergePatch(OPERATOR('etcds'), 'cluster', { spec: { unsupportedConfigOverrides: { defrag: { disabled: true } } } });
    await waitFor('DefragControllerDisabled', 30_000, async () => {
      const etcd = await kube.get(OPERATOR('etcds'), 'cluster');
      return etcd.status.conditions.find((c: any) => c.type === 'DefragControllerDisabled')?.status === 'True' ? true : undefined;
    }, 500);
  });

  it('serves fragmentation, quota and NOSPACE metrics that the PrometheusRule alerts on', async () => {
    const url = `${t.cluster.hosts[0].operatorMetricsURL}/metrics`;
    const text = await waitFor('the operator metrics', 30_000, async () => {
      const body = await (await fetch(url)).text();
      return /etcd_ops_member_quota_usage_percent\{member="master-0"\}/.test(body) ? body : undefined;
    }, 1000);
    for (const name of ['etcd_ops_member_fragmented_bytes', 'etcd_ops_member_fragmentation_percent', 'etcd_ops_nospace_alarm_active', 'etcd_ops_defrag_last_success_timestamp_seconds', 'etcd_ops_defrag_duration_seconds']) {
      assert.ok(text.includes(name), name);
    }
    const rule = parse(readFileSync(`${projectRoot}deploy/prometheus/etcd-ops-rules.yaml`, 'utf8'));
    assert.equal(rule.kind, 'PrometheusRule');
    const alerts = rule.spec.groups.flatMap((g: any) => g.rules);
    const exprs = alerts.map((a: any) => a.expr).join(' ');
    for (const m of exprs.match(/etcd_ops_[a-z_]+/g)) assert.ok(text.includes(m), `the rule uses ${m}, which the operator serves`);
    assert.match(alerts.find((a: any) => a.alert === 'EtcdBackendQuotaUsageHigh').expr, /> 80/);
    assert.match(alerts.find((a: any) => a.alert === 'EtcdBackendQuotaUsageCritical').expr, /> 95/);
    assert.ok(alerts.some((a: any) => a.alert === 'EtcdHighFragmentation'));
    assert.ok(alerts.some((a: any) => a.alert === 'EtcdNoSpaceAlarm'));
  });

  it('answers writes with 507 under NOSPACE, keeps reads and deletes, and recovers with defrag --recover', async () => {
    const ref = CORE('secrets', 'default');
    let n = 0;
    let full: ApiError | undefined;
    for (; n < 2000 && !full; n++) {
      try {
        await kube.create(ref, secret('default', `fill-${n}`, 200 * 1024));
      } catch (err) {
        if (err instanceof ApiError && err.code === 507) full = err;
        else throw err;
      }
    }
    assert.ok(full, `NOSPACE after ${n} secrets`);
    assert.equal(full.reason, 'InsufficientStorage');
    assert.match(full.message, /database space exceeded/);
    assert.match(full.message, /etcd-ops defrag --recover/);
    assert.match((await t.cli(['alarm', 'list'])).stdout, /alarm:NOSPACE/);
    const read = await kube.get(ref, 'fill-0');
    assert.equal(read.metadata.name, 'fill-0');
    assert.equal(kubectl(t, ['get', 'secret', 'fill-1', '-o', 'name']).stdout.trim(), 'secret/fill-1');
    // The operator's metrics say NOSPACE, and why: a member's database at (about) its whole quota.
    // The space and the alarm are observed one after the other every 15 s, so one scrape may
    // still show the sizes from before the alarm: wait for one that shows both.
    const usage = (body: string) => [...body.matchAll(/^etcd_ops_member_quota_usage_percent\{member="[^"]+"\} ([\d.e+-]+)$/gm)].map((m) => Number(m[1]));
    const metricsText = await waitFor('the NOSPACE metric and the quota usage that explains it', 60_000, async () => {
      const body = await (await fetch(`${t.cluster.hosts[1].operatorMetricsURL}/metrics`)).text();
      return /etcd_ops_nospace_alarm_active 1/.test(body) && Math.max(...usage(body)) > 90 ? body : undefined;
    }, 1000);
    assert.equal(usage(metricsText).length, 3, 'every member is reported');
    // Deletes work under NOSPACE. On a loaded machine some may answer 503 while etcd is slow:
    // the admin runs the command again, as this does, until every secret is gone.
    let lastErr = '';
    await waitFor('every secret deleted under NOSPACE', 120_000, () => {
      const del = kubectl(t, ['delete', 'secrets', '--all', '-n', 'default'], { timeoutMs: 120_000 });
      lastErr = del.stderr;
      return del.code === 0 ? true : undefined;
    }, 2000).catch((err: Error) => assert.fail(`${err.message}: ${lastErr.split('\n').slice(-3).join(' ')}`));
    const rec = await t.cli(['defrag', '--recover'], { timeoutMs: 120_000 });
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stdout, /NOSPACE disarmed: every member is now below 90 % of its quota/);
    assert.equal((await t.cli(['alarm', 'list'])).stdout, '');
    await kube.create(ref, secret('default', 'after-recovery'));
    assert.equal((await kube.get(ref, 'after-recovery')).metadata.name, 'after-recovery');
  });
});
