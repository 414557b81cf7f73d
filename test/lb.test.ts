/**
 * The load balancer in front of the API servers, with real HTTPS backends behind it: TLS passes
 * through, a backend whose /readyz fails gets no new connections, and a backend that died since
 * the last health check is skipped at once for the next one, so no client sees the failure; the
 * open connections of a backend that keeps failing its checks are cut, so its clients reconnect.
 */
import assert from 'node:assert/strict';
import { Agent, createServer, request, type Server } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { Balancer } from '../src/lb/balancer.js';
import { createCA, issueServerCert, type CertKeyPair } from '../src/pki/index.js';
import { freePorts } from '../src/util/ports.js';

interface Backend {
  name: string;
  port: number;
  server: Server;
  ready: boolean;
}

describe('load balancer', { timeout: 60_000 }, () => {
  let ca: CertKeyPair;
  let serving: CertKeyPair;
  const backends: Backend[] = [];
  const balancers: Balancer[] = [];

  async function backend(name: string, port: number): Promise<Backend> {
    const b: Backend = { name, port, ready: true, server: undefined as unknown as Server };
    b.server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      if (req.url === '/readyz') res.writeHead(b.ready ? 200 : 503).end();
      else res.writeHead(200).end(name);
    });
    await new Promise<void>((r) => b.server.listen(port, '127.0.0.1', () => r()));
    backends.push(b);
    return b;
  }

  async function balancer(port: number, names: Backend[], healthIntervalMs: number): Promise<Balancer> {
    const lb = new Balancer({ port, backends: names.map((b) => ({ name: b.name, url: `https://127.0.0.1:${b.port}` })), ca: ca.certPem, healthIntervalMs, log: () => {} });
    await lb.start();
    balancers.push(lb);
    return lb;
  }

  /** One request through the load balancer on a new connection; answers which backend served it. */
  function via(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', ca: ca.certPem, servername: 'localhost', agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    ca = await createCA({ commonName: 'lb-test-ca' });
    serving = await issueServerCert(ca, { commonName: 'apiserver', dnsNames: ['localhost'] });
  });
  after(async () => {
    await Promise.all(balancers.map((lb) => lb.stop()));
    for (const b of backends) b.server.closeAllConnections();
    await Promise.all(backends.map((b) => new Promise((r) => b.server.close(r))));
  });

  it('passes TLS through and spreads new connections over the ready backends', async () => {
    const [pa, pb, plb] = await freePorts(3);
    const a = await backend('a', pa!);
    const b = await backend('b', pb!);
    await balancer(plb!, [a, b], 60_000);
    const served = await Promise.all(Array.from({ length: 6 }, () => via(plb!)));
    assert.deepEqual([...new Set(served)].sort(), ['a', 'b']);
  });

  it('sends nothing to a backend whose /readyz fails', async () => {
    const [pa, pb, plb] = await freePorts(3);
    const a = await backend('a-unready', pa!);
    const b = await backend('b-ready', pb!);
    a.ready = false;
    const lb = await balancer(plb!, [a, b], 60_000);
    assert.deepEqual(lb.status().map((x) => [x.name, x.healthy]), [['a-unready', false], ['b-ready', true]]);
    const served = await Promise.all(Array.from({ length: 6 }, () => via(plb!)));
    assert.deepEqual([...new Set(served)], ['b-ready']);
  });

  it('skips a backend that died since its last health check, at once and for the next connections', async () => {
    const [pa, pb, plb] = await freePorts(3);
    const a = await backend('a-dies', pa!);
    const b = await backend('b-lives', pb!);
    // Health checks far apart: only the failed connection can tell the balancer that a is gone.
    const lb = await balancer(plb!, [a, b], 60_000);
    assert.deepEqual(lb.status().map((x) => x.healthy), [true, true]);
    a.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
    const served = [];
    for (let i = 0; i < 6; i++) served.push(await via(plb!));
    assert.deepEqual([...new Set(served)], ['b-lives'], 'every request answered, by the live backend');
    assert.deepEqual(lb.status().map((x) => [x.name, x.healthy]), [['a-dies', false], ['b-lives', true]]);
  });

  it('cuts the open connections of a backend that failed three health checks in a row', async () => {
    const [pa, pb, plb] = await freePorts(3);
    const a = await backend('a-cut-off', pa!);
    const b = await backend('b-stays', pb!);
    const lb = await balancer(plb!, [a, b], 200);
    // One kept-alive connection per backend: the balancer alternates new connections.
    const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
    const on = (agent: Agent) =>
      new Promise<{ body: string; socket: unknown }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: plb!, path: '/', ca: ca.certPem, servername: 'localhost', agent, timeout: 5000 }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ body, socket: req.socket }));
        });
        req.on('timeout', () => req.destroy(new Error('no answer')));
        req.on('error', reject);
        req.end();
      });
    try {
      const first = await Promise.all(agents.map(on));
      const i = first.findIndex((x) => x.body === 'a-cut-off');
      assert.ok(i >= 0, `one connection went to a: ${first.map((x) => x.body)}`);
      const closed = new Promise((r) => (first[i]!.socket as import('node:net').Socket).once('close', r));
      a.ready = false;
      await closed;
      const again = await on(agents[i]!);
      assert.equal(again.body, 'b-stays', 'the client reconnected to the ready backend');
      assert.ok(lb.status().find((x) => x.name === 'a-cut-off')!.failures >= 3);
    } finally {
      for (const ag of agents) ag.destroy();
    }
  });
});
