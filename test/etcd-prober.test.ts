/**
 * The API server's etcd client skips a member that swallows connections (a partition) once its
 * status probe misses the deadline, instead of sending every third call there to wait out the
 * request deadline; it never skips every member. Real etcd; the cut-off member is a TCP listener
 * that accepts and never answers, as a blackholed peer looks to a client.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createEtcdClient } from '../src/etcd/client.js';
import { EndpointProber } from '../src/etcd/prober.js';
import { startEtcd, type StartedEtcd } from './helpers/etcd.js';

const waitFor = async <T>(what: string, ms: number, fn: () => T | undefined): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('etcd endpoint prober', { timeout: 60_000 }, () => {
  let etcd: StartedEtcd;
  const sockets = new Set<Socket>();
  const hole = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  let holeURL = '';
  before(async () => {
    etcd = await startEtcd();
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    holeURL = `http://127.0.0.1:${(hole.address() as { port: number }).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    hole.close();
    await etcd?.stop();
  });

  const connect = (e: string) => createEtcdClient({ endpoints: [e], dialTimeoutMs: 500, callTimeoutMs: 500, faults: 'fail-fast' });

  it('marks the silent member to skip, keeps the live one, and never skips them all', async () => {
    const p = new EndpointProber({ endpoints: [etcd.clientURL, holeURL], everyMs: 200, connect });
    try {
      await waitFor('the silent member to be skipped', 20_000, () => (p.skip(holeURL) ? true : undefined));
      assert.equal(p.skip(etcd.clientURL), false, 'the live member answers its status with a leader');
    } finally {
      p.close();
    }
    const alone = new EndpointProber({ endpoints: [holeURL, `${holeURL}/`], everyMs: 200, connect });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(alone.skip(holeURL), false, 'with no member well, calls go everywhere');
    } finally {
      alone.close();
    }
  });

  it("the API server's client answers every call through the live member while the other is silent", async () => {
    const c = createEtcdClient({ endpoints: [etcd.clientURL, holeURL], dialTimeoutMs: 30_000, callTimeoutMs: 30_000, faults: 'retry-once' });
    try {
      // Once the probe has had time to run, no call is sent to the silent member: each would wait
      // out its 30 s deadline and this loop would exceed the test's timeout.
      await new Promise((r) => setTimeout(r, 3000));
      await c.put('probe/k').value('v');
      for (let i = 0; i < 30; i++) assert.equal(await c.get('probe/k').string(), 'v');
    } finally {
      c.close();
    }
  });
});
