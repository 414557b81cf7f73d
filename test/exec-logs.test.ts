/**
 * `kubectl exec` and `kubectl logs` into the static pods, with the real kubectl, through the load
 * balancer, the API server (authorization, the pod's node) and the host's agent; and the Nodes the
 * agents register. One 1-host control plane for the whole file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readAgentStatus } from '../src/agent/status.js';
import { hostPaths } from '../src/home/layout.js';
import { markUnknown, staleNodes } from '../src/operator/node-lifecycle.js';
import { waitFor } from '../src/util/time.js';
import { etcdctlFlags, upHome, type TestHome } from './helpers/home.js';
import { kubectl } from './helpers/kube.js';

const NS = ['-n', 'openshift-etcd'];
const POD = 'etcd-master-0';

function etcdPid(t: TestHome): number | undefined {
  const s = readAgentStatus(hostPaths(t.home, 'master-0').podStatusFile);
  const c = s?.pods.find((p) => p.name === POD)?.containers.find((x) => x.name === 'etcd');
  return c?.state === 'Running' ? c.pid : undefined;
}

describe('kubectl exec and logs into the static pods', { timeout: 180_000 }, () => {
  let t: TestHome;
  before(async () => {
    t = await upHome(['--hosts', '1']);
  });
  after(async () => {
    await t?.destroy();
  });

  it('registers the host as a Ready control-plane Node with a heartbeat Lease', async () => {
    const r = await waitFor('the node to register', 30_000, () => {
      const x = kubectl(t, ['get', 'nodes']);
      return /master-0\s+Ready\s+control-plane,master\s+\S+\s+v1\.32\.0/.test(x.stdout) ? x : undefined;
    });
    assert.match(r.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    const node = JSON.parse(kubectl(t, ['get', 'node', 'master-0', '-o', 'json']).stdout);
    assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
    assert.equal(node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address, new URL(t.cluster.hosts[0]!.kubeletURL!).hostname);
    const lease = JSON.parse(kubectl(t, ['get', 'lease', '-n', 'kube-node-lease', 'master-0', '-o', 'json']).stdout);
    assert.equal(lease.spec.holderIdentity, 'master-0');
    assert.ok(Date.now() - Date.parse(lease.spec.renewTime) < 30_000);
  });

  it('runs the seed\'s etcdctl through the default etcdctl container, and exits with the command\'s code', () => {
    const r = kubectl(t, ['exec', ...NS, POD, '--', 'etcdctl', 'endpoint', 'status', '--cluster', '-w', 'table']);
    assert.equal(r.code, 0, r.stderr);
    const m = t.cluster.hosts[0]!;
    // The same table etcdctl prints from the outside.
    const direct = spawnSync('etcdctl', [...etcdctlFlags(t.home, t.cluster, [m.clientURL]), 'endpoint', 'status', '--cluster', '-w', 'table'], { encoding: 'utf8' });
    const shape = (s: string) => s.replace(/\|\s*\d+(\.\d+)? [kM]?B\s*\|/g, '|DB|').replace(/\|\s*\d+\s*\|\s*\d+\s*\|\s*\d+\s*\|/g, '|N|N|N|');
    assert.equal(shape(r.stdout), shape(direct.stdout));
    assert.match(r.stdout, /\|\s+ENDPOINT\s+\|\s+ID\s+\|\s+VERSION\s+\|\s+DB SIZE\s+\|\s+IS LEADER\s+\|/);
    const fail = kubectl(t, ['exec', ...NS, POD, '-c', 'etcd', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(fail.code, 3);
    assert.equal(fail.stdout, 'out\n');
    assert.match(fail.stderr, /^err\ncommand terminated with exit code 3\n$/);
    const stdin = kubectl(t, ['exec', '-i', ...NS, POD, '--', 'sh', '-c', 'wc -c; echo "$ETCDCTL_API"'], { input: 'twelve bytes' });
    assert.deepEqual(stdin.stdout.split('\n').map((l) => l.trim()), ['12', '3', '']);
  });

  it('gives a terminal with kubectl exec -it, driven from tmux, that follows a resize', async () => {
    const session = `etcd-ops-exec-${process.pid}`;
    const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
    const cmd = `kubectl --kubeconfig ${join(t.home, 'kubeconfig')} exec -it -n openshift-etcd ${POD} -- sh; echo EXIT=$?; sleep 60`;
    assert.equal(tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', cmd).status, 0);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
      await waitFor('the shell prompt', 20_000, () => (/^#\s*$/m.test(screen()) ? true : undefined));
      tmux('send-keys', '-t', session, 'stty size; etcdctl endpoint health', 'Enter');
      await waitFor('the health answer', 20_000, () => (/is healthy: successfully committed proposal/.test(screen()) ? true : undefined));
      assert.match(screen(), /^40 120$/m);
      tmux('resize-window', '-t', session, '-x', '100', '-y', '30');
      tmux('send-keys', '-t', session, 'stty size; exit 7', 'Enter');
      const s = await waitFor('the shell to exit', 20_000, () => (/EXIT=7/.test(screen()) ? screen() : undefined));
      assert.match(s, /^30 100$/m);
      assert.match(s, /command terminated with exit code 7/);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });

  it('shows container logs with -c, --tail, --since and --previous, and -f follows a restarting container', async () => {
    const tail = kubectl(t, ['logs', ...NS, POD, '-c', 'etcd', '--tail', '3']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trim().split('\n').length, 3);
    assert.match(kubectl(t, ['logs', ...NS, POD, '-c', 'etcd']).stdout, /etcd Version: 3\.4/);
    assert.equal(kubectl(t, ['logs', ...NS, POD, '-c', 'etcd', '--since', '1s', '--tail', '-1']).code, 0);
    assert.match(kubectl(t, ['logs', ...NS, POD, '-c', 'etcd', '--previous']).stderr, /previous terminated container "etcd" in pod "etcd-master-0" not found/);
    assert.match(kubectl(t, ['logs', ...NS, POD, '-c', 'nope']).stderr, /container nope is not valid for pod etcd-master-0/);

    const follow = spawn('kubectl', ['--kubeconfig', join(t.home, 'kubeconfig'), 'logs', '-f', ...NS, POD, '-c', 'etcd', '--tail', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    follow.stdout.on('data', (d: Buffer) => (seen += d));
    try {
      const pid = await waitFor('etcd to run', 20_000, () => etcdPid(t));
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(pid, 'SIGKILL');
      // The follow carries on into the new start's log: its startup banner arrives.
      await waitFor('the restarted etcd in the followed log', 40_000, () => (/etcd Version: 3\.4/.test(seen) ? true : undefined));
    } finally {
      follow.kill();
    }
    // One host: the API server waits for its etcd to come back before it answers again.
    const prev = await waitFor('the API after the restart', 60_000, () => {
      const r = kubectl(t, ['logs', ...NS, POD, '-c', 'etcd', '--previous', '--tail', '5']);
      return r.code === 0 ? r : undefined;
    });
    await waitFor('RBAC to be ready again', 30_000, () => (kubectl(t, ['auth', 'can-i', 'get', 'pods'], { context: 'developer' }).stderr === '' ? true : undefined));
    assert.equal(prev.stdout.trim().split('\n').length, 5);
    const ts = kubectl(t, ['logs', ...NS, POD, '-c', 'etcd', '--timestamps', '--tail', '1']);
    assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /);
  });

  it('refuses exec and logs to the developer, and to nobody', () => {
    const exec = kubectl(t, ['exec', ...NS, POD, '--', 'true'], { context: 'developer' });
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /Forbidden/);
    const logs = kubectl(t, ['logs', ...NS, POD, '-c', 'etcd'], { context: 'developer' });
    assert.match(logs.stderr, /Forbidden/);
    // In the developer's own namespace RBAC would allow exec, but there is no such pod.
    const own = kubectl(t, ['exec', '-n', 'developer', 'nothing-here', '--', 'true'], { context: 'developer' });
    assert.match(own.stderr, /NotFound|not found/);
  });
});

describe('node lifecycle (pure)', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const node = (name: string, status: string, heartbeat: string) => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status, lastHeartbeatTime: heartbeat }] } });
  const lease = (name: string, renewTime: string) => ({ metadata: { name }, spec: { renewTime } });

  it('marks a node whose lease and status are older than the grace period, and only that one', () => {
    const nodes = [node('a', 'True', '2026-11-30T11:59:00Z'), node('b', 'True', '2026-11-30T11:59:00Z'), node('c', 'Unknown', '2026-11-30T11:50:00Z')];
    const leases = [lease('a', '2026-11-30T11:59:50.000000Z'), lease('b', '2026-11-30T11:59:20.000000Z')];
    assert.deepEqual(staleNodes(nodes, leases, now), ['b']);
    const marked = markUnknown(nodes[1]!, now);
    assert.deepEqual(marked.status.conditions[0], { type: 'Ready', status: 'Unknown', lastHeartbeatTime: '2026-11-30T11:59:00Z', lastTransitionTime: '2026-11-30T12:00:00Z', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  });
});
