/**
 * The operator's leader election (operator/election.ts) against a real etcd: the oldest campaign
 * key leads; a dead leader is replaced once its lease runs out; a resignation hands over at once;
 * a leader cut off from etcd (the member frozen with SIGSTOP: connections open, no answers, as in
 * a partition) steps down before its lease can expire. Short TTLs keep it quick.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEtcdClient } from '../src/etcd/client.js';
import { Election, leaderOf, mustStepDown, type ElectionOptions } from '../src/operator/election.js';
import { waitFor } from '../src/util/time.js';
import { startEtcd, type StartedEtcd } from './helpers/etcd.js';

const TTL_S = 3;

/**
 * A TCP proxy in front of etcd that can go silent: `cut()` stops forwarding both ways and keeps
 * the connections open, as a partition does to an established connection (no reset, no answer).
 */
async function cuttableProxy(target: string): Promise<{ url: string; cut(): void; close(): void }> {
  const u = new URL(target);
  const pairs: Array<[Socket, Socket]> = [];
  let cut = false;
  const server = createServer((client) => {
    const upstream = connect(Number(u.port), u.hostname);
    pairs.push([client, upstream]);
    client.on('data', (d) => !cut && upstream.write(d));
    upstream.on('data', (d) => !cut && client.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => void (cut = true),
    close: () => {
      for (const [a, b] of pairs) a.destroy(), b.destroy();
      server.close();
    },
  };
}
const base = { ttlSeconds: TTL_S, retryMs: 200, renewDeadlineMs: 2000, callTimeoutMs: 500, log: () => {} };

describe('operator leader election', { timeout: 90_000 }, () => {
  let etcd: StartedEtcd;
  const clients: Array<{ close(): void }> = [];
  const candidate = (value: string, prefix: string, extra: Partial<ElectionOptions> = {}, endpoints = [etcd.clientURL]) => {
    const c = createEtcdClient({ endpoints, dialTimeoutMs: 1000, faults: 'patient' });
    clients.push(c);
    return { client: c, election: new Election(c, { ...base, prefix, value, ...extra }) };
  };
  const owner = async (prefix: string) => {
    const c = createEtcdClient({ endpoints: [etcd.clientURL], dialTimeoutMs: 1000, faults: 'fail-fast' });
    try {
      const r = await c.getAll().prefix(prefix).sort('Create', 'Ascend').limit(1).exec();
      return r.kvs[0]?.value.toString();
    } finally {
      c.close();
    }
  };

  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    for (const c of clients) c.close();
    try {
      process.kill(etcd.proc.pid!, 'SIGCONT');
    } catch {}
    await etcd?.stop();
  });

  it('decides by the oldest key, and steps down only past the renew deadline', () => {
    assert.equal(leaderOf([{ key: 'b', createRevision: 9 }, { key: 'a', createRevision: 7 }]), 'a');
    assert.equal(leaderOf([]), undefined);
    assert.equal(mustStepDown(1000, 11_000, 10_000), false);
    assert.equal(mustStepDown(1000, 11_001, 10_000), true);
  });

  it('elects the first candidate; the second takes over once the first dies and its lease runs out', async () => {
    const p = 'election/test-dies/';
    const a = candidate('a', p);
    await a.election.campaign();
    const b = candidate('b', p);
    let bElected = false;
    const bDone = b.election.campaign().then(() => (bElected = true));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(bElected, false, 'b waits while a renews');
    assert.equal(await owner(p), 'a');
    const died = Date.now();
    a.election.stop();
    await bDone;
    const took = Date.now() - died;
    assert.equal(await owner(p), 'b');
    // Not before a's lease could expire (it renewed at most one retry period before dying) ...
    assert.ok(took >= TTL_S * 1000 - base.retryMs - 300, `b elected ${took} ms after a died: before a's lease could expire`);
    // ... and within the lease's TTL and a few looks, not a keep-alive timeout later.
    assert.ok(took <= TTL_S * 1000 + 5 * base.retryMs + 1500, `b elected ${took} ms after a died`);
    await b.election.resign();
  });

  it('takes over within the lease even when one of its members goes silent (a partition), without waiting for a keep-alive timeout', async () => {
    const p = 'election/test-silent/';
    const proxy = await cuttableProxy(etcd.clientURL);
    try {
      const a = candidate('a', p);
      await a.election.campaign();
      // b reaches etcd directly and through the proxy: half its calls use the proxy's connection.
      const b = candidate('b', p, {}, [proxy.url, etcd.clientURL]);
      let bElected = false;
      const bDone = b.election.campaign().then(() => (bElected = true));
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(bElected, false);
      proxy.cut();
      const died = Date.now();
      a.election.stop();
      await bDone;
      const took = Date.now() - died;
      assert.equal(await owner(p), 'b');
      assert.ok(took <= TTL_S * 1000 + 8 * base.retryMs + 4 * base.callTimeoutMs, `b elected ${took} ms after a died, one of its members silent`);
      await b.election.resign();
    } finally {
      proxy.close();
    }
  });

  it('hands over at once when the leader resigns', async () => {
    const p = 'election/test-resign/';
    const a = candidate('a', p);
    await a.election.campaign();
    const b = candidate('b', p);
    const bDone = b.election.campaign();
    await new Promise((r) => setTimeout(r, 500));
    const at = Date.now();
    await a.election.resign();
    await bDone;
    assert.ok(Date.now() - at < TTL_S * 1000, `b elected ${Date.now() - at} ms after a resigned`);
    await b.election.resign();
  });

  it('a leader that cannot reach etcd steps down within the renew deadline, before its lease could expire', async () => {
    const p = 'election/test-cutoff/';
    const a = candidate('a', p);
    await a.election.campaign();
    let lostAt = 0;
    let why = '';
    a.election.onLost((w) => {
      lostAt = Date.now();
      why = w;
    });
    await new Promise((r) => setTimeout(r, 500));
    const frozen = Date.now();
    process.kill(etcd.proc.pid!, 'SIGSTOP');
    try {
      await waitFor('the cut-off leader to step down', 10_000, () => (lostAt ? true : undefined), 50);
    } finally {
      process.kill(etcd.proc.pid!, 'SIGCONT');
    }
    const took = lostAt - frozen;
    assert.match(why, /no lease renewal for \d+ s/);
    assert.ok(took < TTL_S * 1000, `stepped down ${took} ms after the cut: its lease may have expired first`);
  });
});
