import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { readAgentStatus } from '../src/agent/status.js';
import { hostPaths } from '../src/home/layout.js';
import { isAlive } from '../src/util/proc.js';
import { waitFor } from '../src/util/time.js';
import { bins } from './helpers/etcd.js';
import { etcdctlFlags, upHome, type TestHome } from './helpers/home.js';
import { listLinks, listNamespaces } from '../src/netns/ip.js';
import { isOurs } from '../src/netns/plan.js';

/** The plain etcdctl with the home's client certificate, at every member or at the ones given. */
function etcdctl(t: TestHome, args: string[], endpoints?: string): string {
  const r = spawnSync(bins.etcdctl, [...etcdctlFlags(t.home, t.cluster, endpoints?.split(',')), '--command-timeout', '5s', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** etcdctl's JSON has uint64 IDs; keep them exact as strings. */
function parseBigJson(text: string): any {
  return JSON.parse(text.replace(/:(\d{16,})/g, ':"$1"'));
}

function etcdPid(t: TestHome, host: string): number | undefined {
  const s = readAgentStatus(hostPaths(t.home, host).podStatusFile);
  const c = s?.pods.find((p) => p.name === `etcd-${host}`)?.containers.find((x) => x.name === 'etcd');
  return c?.state === 'Running' ? c.pid : undefined;
}

async function waitHealthy(t: TestHome, what: string): Promise<void> {
  await waitFor(what, 30_000, async () => ((await t.cli(['endpoint', 'health'], { timeoutMs: 20_000 })).code === 0 ? true : undefined), 300);
}

describe('local control plane', { timeout: 240_000 }, () => {
  let t: TestHome;
  let upMs = 0;

  before(async () => {
    const start = Date.now();
    t = await upHome();
    upMs = Date.now() - start;
  });
  after(async () => t?.destroy());

  it('brings 3 members to health within 30 s and prints a summary', () => {
    assert.ok(upMs < 30_000, `up took ${upMs} ms`);
    assert.equal(t.cluster.hosts.length, 3);
    const out = (t as any).up.stdout as string;
    assert.match(out, /The local control plane is up: 3 etcd 3\.4\.\d+ members, leader master-\d/);
    for (const h of t.cluster.hosts) assert.ok(out.includes(h.clientURL), `summary names ${h.clientURL}`);
    assert.match(out, /Home: /);
    assert.match(out, /etcd-ops down/);
  });

  it('lays hosts out like real control-plane hosts, with Pod manifests naming their revision', () => {
    for (const h of t.cluster.hosts) {
      const p = hostPaths(t.home, h.name);
      for (const d of [p.manifests, p.etcdDataDir, p.log, join(p.staticPodResources, 'etcd-pod-1')]) assert.ok(existsSync(d), d);
      assert.ok(existsSync(join(p.etcdDataDir, 'member')), 'the data dir holds the member');
      const pod = parse(readFileSync(join(p.manifests, 'etcd-pod.yaml'), 'utf8'));
      assert.equal(pod.kind, 'Pod');
      assert.equal(pod.metadata.namespace, 'openshift-etcd');
      assert.equal(pod.metadata.labels.revision, '1');
      const resourceDir = pod.spec.volumes.find((v: any) => v.name === 'resource-dir').hostPath.path;
      assert.equal(resourceDir, join(p.staticPodResources, 'etcd-pod-1'));
      assert.ok(existsSync(join(resourceDir, 'etcd-pod.yaml')), 'the revision keeps a copy of its pod');
      // OpenShift's order: the etcdctl shell first (the default for kubectl exec), then etcd.
      assert.deepEqual(pod.spec.containers.map((x: any) => x.name).slice(0, 2), ['etcdctl', 'etcd']);
      assert.equal(pod.metadata.annotations['kubectl.kubernetes.io/default-container'], 'etcdctl');
      const c = pod.spec.containers.find((x: any) => x.name === 'etcd');
      assert.ok(c.command[0].endsWith('etcd'));
      assert.ok(c.args.some((a: string) => a.startsWith(`--listen-client-urls=${h.clientURL}`)));
      if (h.clientURL.startsWith('https://')) assert.ok(c.args.includes('--client-cert-auth=true') && c.args.includes('--peer-client-cert-auth=true'), 'mutual TLS');
      assert.ok(c.env.some((e: any) => e.name === 'ETCD_QUOTA_BACKEND_BYTES'));
    }
    const ports = t.cluster.hosts.flatMap((h) => [h.clientURL, h.peerURL, h.metricsURL]);
    assert.equal(new Set(ports).size, 9, 'every URL is its own: an address of its own, or a port of its own');
  });

  it('has exactly one leader, and etcdctl agrees on IDs, leader and revisions', async () => {
    const ours = await t.cli(['endpoint', 'status', '-w', 'json']);
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = etcdctl(t, ['endpoint', 'status', '-w', 'json']);
    const a = parseBigJson(ours.stdout);
    const b = parseBigJson(theirs);
    assert.equal(a.length, 3);
    const leaders = a.filter((r: any) => r.Status.header.member_id === r.Status.leader);
    assert.equal(leaders.length, 1, 'exactly one member is its own leader');
    for (let i = 0; i < 3; i++) {
      assert.equal(a[i].Endpoint, b[i].Endpoint);
      assert.equal(a[i].Status.header.member_id, b[i].Status.header.member_id);
      assert.equal(a[i].Status.header.cluster_id, b[i].Status.header.cluster_id);
      assert.equal(a[i].Status.leader, b[i].Status.leader);
      // The API servers and the operator write all the time: etcdctl, asked second, may be a few
      // revisions ahead, never behind. (Against a quiet etcd the two agree exactly: cluster-commands.test.ts.)
      const revOurs = Number(a[i].Status.header.revision);
      const revTheirs = Number(b[i].Status.header.revision);
      assert.ok(revTheirs >= revOurs && revTheirs - revOurs < 200, `revision: ours ${revOurs}, etcdctl ${revTheirs}`);
      assert.equal(a[i].Status.version, b[i].Status.version);
    }
    const table = await t.cli(['endpoint', 'status', '-w', 'table']);
    const ctlTable = etcdctl(t, ['endpoint', 'status', '-w', 'table']);
    // Same header and borders, byte for byte; raft indexes may move between the two calls.
    assert.equal(table.stdout.split('\n').slice(0, 3).join('\n'), ctlTable.split('\n').slice(0, 3).join('\n'));
    const ids = a.map((r: any) => BigInt(r.Status.header.member_id).toString(16));
    for (const id of ids) assert.ok(table.stdout.includes(id), `table shows member ${id} in hex`);
  });

  it('lists members, alarms, health and the space metrics', async () => {
    const members = await t.cli(['member', 'list', '-w', 'table']);
    assert.equal(members.code, 0, members.stderr);
    assert.equal(members.stdout.split('\n').slice(0, 3).join('\n'), etcdctl(t, ['member', 'list', '-w', 'table']).split('\n').slice(0, 3).join('\n'));
    for (const h of t.cluster.hosts) assert.match(members.stdout, new RegExp(`\\| started \\| +${h.name} \\|`));
    const health = await t.cli(['endpoint', 'health']);
    assert.equal(health.code, 0);
    assert.equal(health.stderr.match(/is healthy: successfully committed proposal: took = /g)?.length, 3, 'etcdctl 3.4 prints health on stderr');
    const alarms = await t.cli(['alarm', 'list']);
    assert.equal(alarms.code, 0);
    assert.equal(alarms.stdout, '');
    const metrics = await t.cli(['metrics', '-w', 'json']);
    assert.equal(metrics.code, 0, metrics.stderr);
    const rows = JSON.parse(metrics.stdout);
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.etcd_server_quota_backend_bytes, 2 * 1024 ** 3);
      assert.ok(r.etcd_mvcc_db_total_size_in_bytes >= r.etcd_mvcc_db_total_size_in_use_in_bytes);
      assert.equal(r.reclaimable_mb, (r.etcd_mvcc_db_total_size_in_bytes - r.etcd_mvcc_db_total_size_in_use_in_bytes) / 1024 / 1024);
    }
    const ps = await t.cli(['ps']);
    assert.equal(ps.code, 0);
    for (const h of t.cluster.hosts) assert.match(ps.stdout, new RegExp(`^${h.name} .* Running +true +etcd +0 +\\d+ +etcd-${h.name} +1$`, 'm'));
  });

  it('restarts an etcd killed with SIGKILL, counts the restart, and the member rejoins', async () => {
    const host = 'master-1';
    const pid = etcdPid(t, host)!;
    assert.ok(pid && isAlive(pid));
    process.kill(pid, 'SIGKILL');
    const newPid = await waitFor('the agent to restart etcd', 15_000, () => {
      const p = etcdPid(t, host);
      return p && p !== pid ? p : undefined;
    });
    assert.ok(isAlive(newPid));
    const status = readAgentStatus(hostPaths(t.home, host).podStatusFile)!;
    assert.equal(status.pods.find((p) => p.name === `etcd-${host}`)!.containers.find((x) => x.name === 'etcd')!.restarts, 1);
    // The killed member may have been the leader: a put can time out until a new one is elected.
    await waitFor('a put after the kill', 30_000, () => {
      try {
        etcdctl(t, ['put', 'after-kill', 'v1']);
        return true;
      } catch {
        return undefined;
      }
    }, 500);
    await waitHealthy(t, 'the killed member to rejoin');
    const member = t.cluster.hosts.find((h) => h.name === host)!.clientURL;
    await waitFor('the restarted member to have the new key', 10_000, () =>
      etcdctl(t, ['get', 'after-kill', '--consistency=s', '--print-value-only'], member).trim() === 'v1' ? true : undefined);
  });

  it('stops a member within 5 s when its manifest is moved out, and starts it when moved back', async () => {
    const host = 'master-2';
    const p = hostPaths(t.home, host);
    const pid = etcdPid(t, host)!;
    const aside = join(t.home, 'etcd-pod.yaml.aside');
    const moved = Date.now();
    renameSync(join(p.manifests, 'etcd-pod.yaml'), aside);
    await waitFor('etcd to stop', 5_000, () => (isAlive(pid) ? undefined : true), 100);
    assert.ok(Date.now() - moved <= 5_000);
    const status = await t.cli(['endpoint', 'status', '-w', 'table']);
    assert.notEqual(status.code, 0, 'a member down makes the status fail');
    const row = status.stdout.split('\n').find((l) => l.includes(t.cluster.hosts[2].clientURL))!;
    assert.match(row, /connection refused|deadline/);
    assert.match(status.stderr, /1 of 3 endpoints did not answer/);
    renameSync(aside, join(p.manifests, 'etcd-pod.yaml'));
    await waitHealthy(t, 'the member to come back');
  });

  it('brings a lost host back from its data with host start', async () => {
    const host = 'master-0';
    etcdctl(t, ['put', 'before-loss', 'kept']);
    const agentPid = JSON.parse(readFileSync(hostPaths(t.home, host).kubeletPidFile, 'utf8')).pid;
    const pid = etcdPid(t, host)!;
    const kill = await t.cli(['host', 'kill', host]);
    assert.equal(kill.code, 0, kill.stderr);
    await waitFor('the host to be gone', 5_000, () => (!isAlive(agentPid) && !isAlive(pid) ? true : undefined), 100);
    const ps = await t.cli(['ps']);
    assert.match(ps.stdout, /master-0: agent not running/);
    const start = await t.cli(['host', 'start', host]);
    assert.equal(start.code, 0, start.stderr);
    await waitHealthy(t, 'the host to rejoin');
    const member = t.cluster.hosts.find((h) => h.name === host)!.clientURL;
    await waitFor('the member to serve its data', 10_000, () =>
      etcdctl(t, ['get', 'before-loss', '--consistency=s', '--print-value-only'], member).trim() === 'kept' ? true : undefined);
  });

  it('lets a second home run beside it, on its own addresses or ports', async () => {
    const b = await upHome(['--hosts', '1']);
    try {
      const ours = new Set(t.cluster.hosts.flatMap((h) => [h.clientURL, h.peerURL, h.apiServerURL]));
      for (const h of b.cluster.hosts) assert.ok(![h.clientURL, h.peerURL, h.apiServerURL].some((u) => ours.has(u)), 'no URL shared');
      assert.equal((await b.cli(['endpoint', 'health'])).code, 0);
      assert.equal((await t.cli(['endpoint', 'health'])).code, 0);
    } finally {
      await b.destroy();
    }
  });

  it('down stops everything and keeps the data; up resumes; up again says it runs', async () => {
    etcdctl(t, ['put', 'survives', 'down-up']);
    const down = await t.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    const left = spawnSync('pgrep', ['-f', t.home], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no process of the home is left');
    // Nor any namespace, link or namespace mount that the home's network was made of.
    const id = t.cluster.network?.id;
    if (id) {
      assert.deepEqual(listNamespaces().filter((n) => isOurs(id, n)), []);
      assert.deepEqual(listLinks().filter((l) => isOurs(id, l)), []);
      assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(`etcd-ops-${id}-`), 'no namespace mount left');
    }
    for (const h of t.cluster.hosts) assert.ok(existsSync(join(hostPaths(t.home, h.name).etcdDataDir, 'member')));
    const up = await t.cli(['up'], { timeoutMs: 60_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /resuming the control plane/);
    assert.equal(etcdctl(t, ['get', 'survives', '--print-value-only']).trim(), 'down-up');
    const again = await t.cli(['up']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already running/);
  });
});
