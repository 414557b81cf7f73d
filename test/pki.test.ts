import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCA, issueServerCert, issueClientCert, writeCertKeyPair, writeCert, describeCert, verifyIssuedBy } from '../src/pki/index.js';
import { spawnSync } from 'node:child_process';
import { startEtcd, etcdctl, bins, type StartedEtcd } from './helpers/etcd.js';
import { tempDir } from './helpers/cleanup.js';

describe('pki', { timeout: 60_000 }, () => {
  const dir = tempDir('etcd-ops-pki-');
  let etcd: StartedEtcd | undefined;
  after(async () => {
    await etcd?.stop();
  });

  it('issues a CA, server and client certificates that verify', async () => {
    const ca = await createCA({ commonName: 'test-ca' });
    const server = await issueServerCert(ca, { commonName: 'etcd-0', dnsNames: ['localhost', 'etcd-0.local'] });
    const client = await issueClientCert(ca, { commonName: 'alice', organizations: ['system:masters'] });
    assert.ok(verifyIssuedBy(server.certPem, ca.certPem));
    assert.ok(verifyIssuedBy(client.certPem, ca.certPem));
    const other = await createCA();
    assert.equal(verifyIssuedBy(server.certPem, other.certPem), false);
    const s = describeCert(server.certPem);
    assert.deepEqual(s.subjectAltNames.sort(), ['DNS:etcd-0.local', 'DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'].sort());
    assert.equal(s.isCA, false);
    assert.ok(describeCert(ca.certPem).isCA);
    assert.match(describeCert(client.certPem).subject, /CN=alice/);
    assert.match(describeCert(client.certPem).subject, /O=system:masters/);
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  it('writes keys 0600 and a real etcd accepts the certificates', async () => {
    const ca = await createCA();
    writeCert(join(dir, 'ca.crt'), ca.certPem);
    const srv = writeCertKeyPair(dir, 'server', await issueServerCert(ca, { commonName: 'etcd', dnsNames: ['localhost'] }));
    const cli = writeCertKeyPair(dir, 'client', await issueClientCert(ca, { commonName: 'root' }));
    assert.equal(statSync(srv.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(cli.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(srv.certFile).mode & 0o777, 0o644);
    etcd = await startEtcd({
      tls: { ca: join(dir, 'ca.crt'), serverCert: srv.certFile, serverKey: srv.keyFile, clientCert: cli.certFile, clientKey: cli.keyFile },
    });
    // etcdctl 3.4 prints the health line on stderr; the exit status is what counts.
    const r = spawnSync(bins.etcdctl, [...etcd.ctlArgs, 'endpoint', 'health'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /is healthy/);
    etcdctl(etcd, ['put', 'k', 'v']);
    assert.equal(etcdctl(etcd, ['get', 'k', '--print-value-only']).trim(), 'v');
  });

  it('a Node https server with the serving certificate is reachable with the CA only', async () => {
    const ca = await createCA();
    const srv = await issueServerCert(ca, { commonName: 'api', dnsNames: ['localhost'] });
    const server = createServer({ cert: srv.certPem, key: srv.keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const get = (host: string, caPem: string) =>
        new Promise<string>((resolve, reject) => {
          const req = request({ host, port, path: '/', ca: caPem, servername: host === '127.0.0.1' ? undefined : host, timeout: 5000 }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await get('127.0.0.1', ca.certPem), 'ok');
      assert.equal(await get('localhost', ca.certPem), 'ok');
      const other = await createCA();
      await assert.rejects(get('127.0.0.1', other.certPem), /self.signed|unable to verify|certificate/i);
    } finally {
      server.close();
    }
  });

  it('never puts key material in errors', async () => {
    const ca = await createCA();
    const bad = { certPem: ca.certPem, keyPem: '-----BEGIN PRIVATE KEY-----\nTUFURVJJQUxTRUNSRVQ=\n-----END PRIVATE KEY-----\n' };
    await assert.rejects(issueClientCert(bad, { commonName: 'x' }), (err: Error) => !err.message.includes('TUFURVJJQUxTRUNSRVQ'));
  });
});
