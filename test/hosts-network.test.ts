/**
 * Hosts as machines: each host in its own network namespace, etcd over mutual TLS at the standard
 * ports, the seed's commands verbatim (kubectl exec into the etcd pod, crictl on the host), and a
 * partition of the leader with `host isolate` / `host heal`. One 3-host control plane.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostNetworkAvailable } from '../src/netns/network.js';
import { createCA, issueClientCert, writeCertKeyPair } from '../src/pki/index.js';
import { waitFor } from '../src/util/time.js';
import { tempDir } from './helpers/cleanup.js';
import { bins } from './helpers/etcd.js';
import { upHome, type TestHome } from './helpers/home.js';
import { kubectl } from './helpers/kube.js';

const avail = hostNetworkAvailable();

/** The environment `up` printed for the plain etcdctl, read back from its output. */
function printedEnv(upStdout: string): Record<string, string> {
  return Object.fromEntries([...upStdout.matchAll(/^\s+export (ETCDCTL_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function etcdctl(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCDCTL_')));
  return spawnSync(bins.etcdctl, ['--dial-timeout=2s', '--command-timeout=5s', ...args], { encoding: 'utf8', env: { ...clean, ...env }, timeout: 20_000 });
}

describe('hosts as machines: a network per host, mutual TLS, the seed\'s commands, partitions', { skip: avail.ok ? false : `no network namespaces here: ${avail.why}`, timeout: 300_000 }, () => {
  let t: TestHome & { up: { stdout: string } };
  let env: Record<string, string>;
  before(async () => {
    t = await upHome();
    env = printedEnv(t.up.stdout);
  });
  after(async () => t?.destroy());

  const leader = (): string | undefined => {
    const r = etcdctl(['endpoint', 'status', '-w', 'json'], env);
    const rows = JSON.parse(r.stdout || '[]') as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
    const l = rows.find((x) => x.Status.header.member_id === x.Status.leader);
    return l && t.cluster.hosts.find((h) => h.clientURL === l.Endpoint)?.name;
  };

  it('puts every member at https://<host address>:2379, each host on its own address', () => {
    assert.equal(t.cluster.network?.mode, 'hosts');
    const addrs = t.cluster.hosts.map((h) => h.address!);
    assert.equal(new Set(addrs).size, 3);
    for (const h of t.cluster.hosts) {
      assert.match(h.address!, /^10\.250\.\d+\.\d+$/);
      assert.equal(h.clientURL, `https://${h.address}:2379`);
      assert.equal(h.peerURL, `https://${h.address}:2380`);
      assert.equal(h.apiServerURL, `https://${h.address}:6443`);
    }
  });

  it('lets the real etcdctl in with the environment up printed, and nobody without the right certificate', async () => {
    assert.deepEqual(Object.keys(env).sort(), ['ETCDCTL_API', 'ETCDCTL_CACERT', 'ETCDCTL_CERT', 'ETCDCTL_ENDPOINTS', 'ETCDCTL_KEY']);
    const ok = etcdctl(['endpoint', 'health'], env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stderr.match(/is healthy/g)?.length, 3);
    // No client certificate: the TLS handshake fails.
    const { ETCDCTL_CERT: _c, ETCDCTL_KEY: _k, ...noCert } = env;
    const bare = etcdctl(['endpoint', 'health'], noCert);
    assert.notEqual(bare.status, 0);
    assert.doesNotMatch(bare.stderr, /is healthy/);
    // A certificate from another CA: refused too.
    const dir = tempDir('etcd-ops-stranger-');
    const stranger = writeCertKeyPair(dir, 'stranger', await issueClientCert(await createCA(), { commonName: 'stranger' }));
    const other = etcdctl(['endpoint', 'health'], { ...env, ETCDCTL_CERT: stranger.certFile, ETCDCTL_KEY: stranger.keyFile });
    assert.notEqual(other.status, 0);
    assert.doesNotMatch(other.stderr, /is healthy/);
    // Plain HTTP: nothing answers it.
    const plain = await fetch(`http://${t.cluster.hosts[0]!.address}:2379/health`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => `HTTP ${r.status}`,
      (e: Error) => e.message,
    );
    assert.doesNotMatch(plain, /^HTTP 200/);
  });

  it('inside a host, localhost:2379 is that host\'s member, and crictl lists its containers as on a real host', () => {
    const mine = etcdctl(['endpoint', 'status', '-w', 'json'], { ...env, ETCDCTL_ENDPOINTS: t.cluster.hosts[1]!.clientURL });
    const id = JSON.parse(mine.stdout)[0].Status.header.member_id;
    const inside = spawnSync(process.execPath, [join(process.cwd(), 'bin/etcd-ops.js'), 'host', 'exec', 'master-1', '--home', t.home, '--', 'sh', '-c', `unset ETCDCTL_ENDPOINTS; ${bins.etcdctl} --endpoints=https://localhost:2379 --cacert=$0 --cert=$1 --key=$2 endpoint status -w json`, env.ETCDCTL_CACERT!, env.ETCDCTL_CERT!, env.ETCDCTL_KEY!], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(inside.status, 0, inside.stderr);
    assert.equal(JSON.parse(inside.stdout)[0].Status.header.member_id, id);
    const crictl = spawnSync(process.execPath, [join(process.cwd(), 'bin/etcd-ops.js'), 'host', 'exec', 'master-1', '--home', t.home, '--', 'sh', '-c', 'crictl ps | grep etcd | grep -v operator'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(crictl.status, 0, crictl.stderr);
    const names = crictl.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/)[4]);
    assert.deepEqual(names.sort(), ['etcd', 'etcd-metrics', 'etcdctl']);
    assert.match(crictl.stdout, /^[0-9a-f]{13} +localhost\/etcd:3\.4\.\d+ +(\d+ seconds|About a minute|\d+ minutes) ago +Running +etcd /m);
  });

  it('runs the seed\'s defrag procedure through kubectl exec, verbatim', async () => {
    const status = kubectl(t, ['exec', '-n', 'openshift-etcd', 'etcd-master-0', '--', 'etcdctl', 'endpoint', 'status', '--cluster', '-w', 'table']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.stdout.trim().split('\n').length, 3 + 3 + 1);
    for (const h of t.cluster.hosts) assert.match(status.stdout, new RegExp(`\\| ${h.clientURL.replace(/\./g, '\\.')} \\|`));
    const session = `etcd-ops-seed-${process.pid}`;
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', `kubectl --kubeconfig ${join(t.home, 'kubeconfig')} exec -it -n openshift-etcd etcd-master-0 -- sh; sleep 60`);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session, '-S', '-50').stdout;
      const type = async (line: string, until: RegExp) => {
        tmux('send-keys', '-t', session, line, 'Enter');
        return waitFor(`"${line}" to answer`, 60_000, () => (until.test(screen()) ? screen() : undefined));
      };
      await waitFor('the shell prompt', 30_000, () => (/^#\s*$/m.test(screen()) ? true : undefined));
      await type('unset ETCDCTL_ENDPOINTS', /unset ETCDCTL_ENDPOINTS\n#/);
      await type('etcdctl --command-timeout=30s --endpoints=https://localhost:2379 defrag', /Finished defragmenting etcd member\[https:\/\/localhost:2379\]/);
      await type('etcdctl alarm list; echo listed=$?', /listed=0/);
      await type('etcdctl alarm disarm; echo disarmed=$?', /disarmed=0/);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });

  it('isolates the leader: a new leader soon, writes through the API keep working, the node goes NotReady; after heal it catches up', async () => {
    const old = await waitFor('a leader', 30_000, leader);
    const cut = await t.cli(['host', 'isolate', old]);
    assert.equal(cut.code, 0, cut.stderr);
    const isolatedAt = Date.now();
    const others = { ...env, ETCDCTL_ENDPOINTS: t.cluster.hosts.filter((h) => h.name !== old).map((h) => h.clientURL).join(',') };
    const newLeader = await waitFor('a new leader among the others', 20_000, () => {
      const r = etcdctl(['endpoint', 'status', '-w', 'json'], others);
      const rows = JSON.parse(r.stdout || '[]') as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
      const l = rows.find((x) => x.Status.header.member_id === x.Status.leader);
      return l && t.cluster.hosts.find((h) => h.clientURL === l.Endpoint)?.name;
    });
    assert.notEqual(newLeader, old);
    const electedMs = Date.now() - isolatedAt;
    // Writes keep working through the load balancer, which skips the cut-off API server.
    for (let i = 0; i < 5; i++) {
      const w = await waitFor(`write ${i} through the API`, 30_000, () => {
        const r = kubectl(t, ['create', 'configmap', `during-partition-${i}`, '-n', 'default', `--from-literal=i=${i}`]);
        return r.code === 0 || /AlreadyExists/.test(r.stderr) ? r : undefined;
      });
      assert.ok(w);
    }
    // Its agent cannot renew the heartbeat: the node goes NotReady after the 40 s grace period.
    // Within 40 s of the cut when the operator's leader runs elsewhere; up to the election's 15 s
    // lease later when it ran on the cut host (operator/election.ts).
    await waitFor('the isolated node to be NotReady', 150_000, () => (new RegExp(`^${old}\\s+NotReady`, 'm').test(kubectl(t, ['get', 'nodes']).stdout) ? true : undefined), 1000);
    const notReadyMs = Date.now() - isolatedAt;
    assert.ok(notReadyMs >= 25_000, `NotReady only after the grace period, not at once (${notReadyMs} ms)`);
    const status = () => {
      const r = etcdctl(['endpoint', 'status', '-w', 'json'], others);
      const rows = JSON.parse(r.stdout || '[]') as { Status: { header: { member_id: number }; leader: number; raft_term: number } }[];
      const l = rows.find((x) => x.Status.header.member_id === x.Status.leader);
      return l && { leader: l.Status.leader, term: l.Status.raft_term };
    };
    const before = await waitFor('the leader before the heal', 20_000, status);
    const heal = await t.cli(['host', 'heal', old]);
    assert.equal(heal.code, 0, heal.stderr);
    // The old leader catches up: it serves the writes made while it was cut off.
    const member = { ...env, ETCDCTL_ENDPOINTS: t.cluster.hosts.find((h) => h.name === old)!.clientURL };
    await waitFor('the healed member to have caught up', 60_000, () => {
      const r = etcdctl(['get', '--prefix', '/kubernetes.io/configmaps/default/during-partition-', '--keys-only', '--consistency=s'], member);
      return r.status === 0 && r.stdout.split('\n').filter(Boolean).length === 5 ? true : undefined;
    });
    await waitFor('the node to be Ready again', 60_000, () => (new RegExp(`^${old}\\s+Ready`, 'm').test(kubectl(t, ['get', 'nodes']).stdout) ? true : undefined), 1000);
    const health = etcdctl(['endpoint', 'health'], env);
    assert.equal(health.status, 0, health.stderr);
    // Pre-vote: the healed member did not raise its term while cut off, so it deposed nobody.
    assert.deepEqual(await waitFor('the leader after the heal', 20_000, status), before, 'the heal caused no election');
    process.stdout.write(`# partition of ${old}: new leader ${newLeader} within ${electedMs} ms; NotReady after ${notReadyMs} ms\n`);
  });
});
