import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { listLinks, listNamespaces } from '../src/netns/ip.js';
import { claimSlot, ensureNetwork, healHost, hostIsolated, hostNetworkAvailable, inNamespace, isolateHost, removeNetwork } from '../src/netns/network.js';
import { isOurs, planNetwork } from '../src/netns/plan.js';
import { tempDir } from './helpers/cleanup.js';

describe('host network plan', () => {
  it('names every part after the network id, within Linux name limits', () => {
    const plan = planNetwork('a1b2c3', 7, [{ name: 'master-0', index: 0 }, { name: 'master-12', index: 12 }]);
    assert.equal(plan.bridge, 'eoa1b2c3');
    assert.equal(plan.gateway, '10.250.7.1');
    assert.deepEqual(plan.hosts.map((h) => [h.netns, h.address, h.link]), [
      ['etcd-ops-a1b2c3-master-0', '10.250.7.10', 'eoa1b2c3-0'],
      ['etcd-ops-a1b2c3-master-12', '10.250.7.22', 'eoa1b2c3-12'],
    ]);
    for (const h of plan.hosts) assert.ok(h.link.length <= 15);
  });

  it('recognises its own names and nobody else\'s', () => {
    for (const n of ['eoa1b2c3', 'eoa1b2c3-0', 'etcd-ops-a1b2c3-master-1']) assert.ok(isOurs('a1b2c3', n), n);
    for (const n of ['eoa1b2c4', 'eth0', 'docker0', 'etcd-ops-ffffff-master-1', 'xeoa1b2c3']) assert.ok(!isOurs('a1b2c3', n), n);
  });

  it('refuses ids and slots that would make bad names', () => {
    assert.throws(() => planNetwork('xyz', 1, []), /6 hex digits/);
    assert.throws(() => planNetwork('a1b2c3', 0, []), /out of range/);
    assert.throws(() => planNetwork('a1b2c3', 255, []), /out of range/);
  });
});

const avail = hostNetworkAvailable();

describe('host network on this machine', { skip: avail.ok ? false : `no network namespaces here: ${avail.why}`, timeout: 60_000 }, () => {
  const id = randomBytes(3).toString('hex');
  // A home that exists: an `up` in another test file sweeps networks whose home is gone.
  const home = tempDir('etcd-ops-netns-test-');
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    removeNetwork(id);
  });

  const slot = claimSlot(id, home);
  const plan = planNetwork(id, slot, [{ name: 'master-0', index: 0 }, { name: 'master-1', index: 1 }]);

  /** A TCP server on the host's address inside its namespace that answers with the host's name. */
  async function serve(hostIndex: number, port: number): Promise<void> {
    const h = plan.hosts[hostIndex]!;
    const script = `require('net').createServer((s) => s.end('${h.host}')).listen(${port}, '${h.address}', () => console.log('up'))`;
    const [file, ...args] = inNamespace(h.netns, [process.execPath, '-e', script]);
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
  }

  /** Connects from `fromNs` (root when undefined) and returns what the server said, or the error. */
  function dial(address: string, port: number, fromNs?: string): string {
    const script = `const s=require('net').connect(${port},'${address}');let d='';s.setTimeout(1500,()=>{console.log('timeout');process.exit()});s.on('data',(b)=>d+=b);s.on('end',()=>{console.log(d);process.exit()});s.on('error',(e)=>{console.log(e.code);process.exit()})`;
    const cmd = fromNs ? inNamespace(fromNs, [process.execPath, '-e', script]) : [process.execPath, '-e', script];
    return spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 10_000 }).stdout.trim();
  }

  it('gives each host its own namespace and address, reachable from the root and from the other hosts', async () => {
    ensureNetwork(plan);
    ensureNetwork(plan); // idempotent: a second up changes nothing
    for (const h of plan.hosts) assert.ok(listNamespaces().includes(h.netns), h.netns);
    await serve(1, 2379);
    assert.equal(dial(plan.hosts[1]!.address, 2379), 'master-1');
    assert.equal(dial(plan.hosts[1]!.address, 2379, plan.hosts[0]!.netns), 'master-1');
    // Inside a host, localhost is that host alone.
    const lo = inNamespace(plan.hosts[0]!.netns, [process.execPath, '-e', `require('net').createServer((s)=>s.end('lo0')).listen(2379,'127.0.0.1',()=>console.log('up'))`]);
    const loServer = spawn(lo[0]!, lo.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(loServer);
    await new Promise((r) => loServer.stdout!.once('data', r));
    assert.equal(dial('127.0.0.1', 2379, plan.hosts[0]!.netns), 'lo0');
    assert.notEqual(dial('127.0.0.1', 2379, plan.hosts[1]!.netns), 'lo0');
  });

  it('isolates a host and heals it', () => {
    const h = plan.hosts[1]!;
    isolateHost(h);
    assert.ok(hostIsolated(h));
    assert.notEqual(dial(h.address, 2379), 'master-1');
    assert.notEqual(dial(h.address, 2379, plan.hosts[0]!.netns), 'master-1');
    healHost(h);
    assert.ok(!hostIsolated(h));
    assert.equal(dial(h.address, 2379, plan.hosts[0]!.netns), 'master-1');
  });

  it('keeps its slot for the same id and gives another id another slot', () => {
    assert.equal(claimSlot(id, home), slot);
    const other = randomBytes(3).toString('hex');
    try {
      assert.notEqual(claimSlot(other, tempDir('etcd-ops-netns-other-')), slot);
    } finally {
      removeNetwork(other);
    }
  });

  it('removes every namespace and link it made, and nothing else', () => {
    // Another home's network, alive beside ours; other test files may make and remove their own
    // at the same time, so only the machine's own names and this decoy are compared.
    const decoyId = randomBytes(3).toString('hex');
    const decoy = planNetwork(decoyId, claimSlot(decoyId, tempDir('etcd-ops-netns-decoy-')), [{ name: 'master-0', index: 0 }]);
    try {
      ensureNetwork(decoy);
      const machineOwn = (n: string) => !/^etcd-ops-[0-9a-f]{6}-|^eo[0-9a-f]{6}(-\d+)?$/.test(n);
      const before = { ns: listNamespaces().filter(machineOwn), links: listLinks().filter(machineOwn) };
      for (const c of children) c.kill('SIGKILL');
      const removed = removeNetwork(id);
      assert.ok(removed.some((r) => r.startsWith('netns ')), removed.join(', '));
      assert.deepEqual(listNamespaces().filter((n) => isOurs(id, n)), []);
      assert.deepEqual(listLinks().filter((l) => isOurs(id, l)), []);
      const now = { ns: new Set(listNamespaces()), links: new Set(listLinks()) };
      assert.deepEqual(before.ns.filter((n) => !now.ns.has(n)), []);
      assert.deepEqual(before.links.filter((l) => !now.links.has(l)), []);
      assert.ok(now.ns.has(decoy.hosts[0]!.netns), 'the other home\'s namespace is still there');
      assert.ok(now.links.has(decoy.bridge), 'the other home\'s bridge is still there');
    } finally {
      removeNetwork(decoyId);
    }
  });
});
