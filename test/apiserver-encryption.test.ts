/**
 * Encryption at rest through the API server (src/encryption's loader), stale-value rewrites that
 * migration relies on, an undecryptable object failing alone, and etcd's NOSPACE alarm.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startEtcd, etcdctl, bins, type StartedEtcd } from './helpers/etcd.js';
import { startAPIServer, type StartedAPIServer } from './helpers/apiserver.js';

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');

function encryptionConfig(keys: { name: string; secret: string }[]): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources: [secrets, configmaps]',
    '    providers:',
    `      - aescbc: {keys: [${keys.map((k) => `{name: "${k.name}", secret: "${k.secret}"}`).join(', ')}]}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

describe('apiserver encryption at rest', { timeout: 150_000 }, () => {
  let etcd: StartedEtcd;
  let srv: StartedAPIServer;
  const stored = (key: string) => etcdctl(etcd, ['get', key, '--print-value-only']);
  const modRev = (key: string) => String(JSON.parse(etcdctl(etcd, ['get', key, '-w', 'json'])).kvs[0].mod_revision);
  const secret = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { v } });

  before(async () => {
    etcd = await startEtcd();
    // A Secret written before encryption was turned on: plaintext JSON, as kube-apiserver stores it.
    etcdctl(etcd, ['put', '/kubernetes.io/secrets/default/old', JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'old', namespace: 'default', uid: '0b7a3c9e-0000-4000-8000-000000000001', creationTimestamp: '2026-01-01T00:00:00Z' }, data: { v: Buffer.from('plain').toString('base64') }, type: 'Opaque' })]);
    srv = await startAPIServer({ etcd, encryptionConfig: encryptionConfig([{ name: '1', secret: KEY1 }]) });
  });
  after(async () => {
    await srv?.stop();
    await etcd?.stop();
  });

  it('writes with the first key, reads plaintext via identity (stale), re-encrypts stale values on a no-op PUT only', async () => {
    assert.match(stored('/kubernetes.io/secrets/default/old'), /^\{"kind":"Secret"/);
    const r0 = await srv.req('GET', '/api/v1/namespaces/default/secrets/old');
    assert.equal(r0.status, 200);
    assert.equal(Buffer.from(r0.json.data.v, 'base64').toString(), 'plain');

    assert.equal((await srv.req('POST', '/api/v1/namespaces/default/secrets', { body: secret('new', 'cipher') })).status, 201);
    assert.ok(stored('/kubernetes.io/secrets/default/new').startsWith('k8s:enc:aescbc:v1:1:'), 'new values are encrypted with key 1');
    const r = srv.kubectl(['get', 'secret', 'new', '-o', 'jsonpath={.data.v}']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Buffer.from(r.stdout, 'base64').toString(), 'cipher');
    assert.equal((await srv.req('POST', '/apis/route.openshift.io/v1/namespaces/default/routes', { body: { apiVersion: 'route.openshift.io/v1', kind: 'Route', metadata: { name: 'r' }, spec: { to: { name: 's' } } } })).status, 201);
    assert.match(stored('/openshift.io/routes/default/r'), /^\{"kind":"Route"/, 'resources not in the config stay plain');

    // A no-op PUT of the stale (plaintext) object rewrites it with the write key and bumps its resourceVersion.
    const old = r0.json;
    const put = await srv.req('PUT', '/api/v1/namespaces/default/secrets/old', { body: old });
    assert.equal(put.status, 200);
    assert.ok(Number(put.json.metadata.resourceVersion) > Number(old.metadata.resourceVersion));
    assert.ok(stored('/kubernetes.io/secrets/default/old').startsWith('k8s:enc:aescbc:v1:1:'));
    // A no-op PUT of a fresh object writes nothing.
    const fresh = (await srv.req('GET', '/api/v1/namespaces/default/secrets/new')).json;
    const before = modRev('/kubernetes.io/secrets/default/new');
    const put2 = await srv.req('PUT', '/api/v1/namespaces/default/secrets/new', { body: fresh });
    assert.equal(put2.status, 200);
    assert.equal(put2.json.metadata.resourceVersion, fresh.metadata.resourceVersion);
    assert.equal(modRev('/kubernetes.io/secrets/default/new'), before, 'no etcd write');
    // And kubectl's replace of an unchanged object is the same no-op.
    const y = srv.kubectl(['get', 'secret', 'new', '-o', 'yaml']);
    assert.equal(srv.kubectl(['replace', '-f', '-'], { input: y.stdout }).status, 0);
    assert.equal(modRev('/kubernetes.io/secrets/default/new'), before, 'no etcd write');
  });

  it('a server restarted with a config lacking an object\'s key: that object fails alone, naming its key; it can still be deleted', async () => {
    const cfg2 = join(srv.dir, 'enc-2.yaml');
    writeFileSync(cfg2, encryptionConfig([{ name: '2', secret: KEY2 }]), { mode: 0o600 });
    await srv.restart({ encryptionConfigFile: cfg2 });
    const g = await srv.req('GET', '/api/v1/namespaces/default/secrets/old');
    assert.equal(g.status, 500);
    assert.equal(g.json.reason, 'InternalError');
    assert.match(g.json.message, /\/kubernetes\.io\/secrets\/default\/old/);
    assert.match(g.json.message, /no matching prefix found|no matching key/);
    assert.ok(!g.json.message.includes(KEY1) && !g.json.message.includes(KEY2), 'no key material');
    const k = srv.kubectl(['get', 'secret', 'old']);
    assert.notEqual(k.status, 0);
    assert.match(k.stderr, /Error from server \(InternalError\): Internal error occurred: .*\/kubernetes\.io\/secrets\/default\/old/);
    // Others keep working.
    assert.equal((await srv.req('GET', '/apis/route.openshift.io/v1/namespaces/default/routes/r')).status, 200);
    assert.equal((await srv.req('POST', '/api/v1/namespaces/default/secrets', { body: secret('newer', 'x') })).status, 201);
    assert.ok(stored('/kubernetes.io/secrets/default/newer').startsWith('k8s:enc:aescbc:v1:2:'));
    // A list fails naming the key, as kube-apiserver's does.
    const l = await srv.req('GET', '/api/v1/namespaces/default/secrets');
    assert.equal(l.status, 500);
    assert.match(l.json.message, /\/kubernetes\.io\/secrets\/default\/(new|old)/);
    // Delete by key, without decoding.
    assert.equal((await srv.req('DELETE', '/api/v1/namespaces/default/secrets/old')).status, 200);
    assert.equal((await srv.req('DELETE', '/api/v1/namespaces/default/secrets/new')).status, 200);
    assert.equal(stored('/kubernetes.io/secrets/default/old'), '');
    const l2 = await srv.req('GET', '/api/v1/namespaces/default/secrets');
    assert.equal(l2.status, 200);
    assert.deepEqual(l2.json.items.map((s: any) => s.metadata.name), ['newer']);
    const m = await srv.req('GET', '/metrics');
    assert.match(m.text, /apiserver_storage_transformation_operations_total\{transformation_type="from_storage",transformer_prefix="aescbc",status="Error"\} [1-9]/);
    assert.match(m.text, /apiserver_storage_transformation_operations_total\{transformation_type="to_storage",transformer_prefix="aescbc",status="OK"\} [1-9]/);
  });

  it('NOSPACE: writes get 507 pointing at defrag --recover; reads and deletes keep working', async () => {
    // Restart etcd on the same data with a small quota, then fill it until the alarm goes off.
    await srv.stop();
    await etcd.stop();
    etcd = await startEtcd({ dataDir: etcd.dataDir, extraArgs: ['--quota-backend-bytes', String(2 * 1024 * 1024)] });
    const filler = 'x'.repeat(512 * 1024);
    for (let i = 0; i < 40; i++) {
      const r = spawnSync(bins.etcdctl, [...etcd.ctlArgs, 'put', `/filler/${i}`], { input: filler, encoding: 'utf8' });
      if (r.status !== 0) {
        assert.match(r.stderr, /database space exceeded/);
        break;
      }
      assert.ok(i < 39, 'the NOSPACE alarm never went off');
    }
    await srv.restart({ etcd: { endpoints: [etcd.clientURL] } });
    const w = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'full' } } });
    assert.equal(w.status, 507);
    assert.equal(w.json.reason, 'InsufficientStorage');
    assert.match(w.json.message, /database space exceeded/);
    assert.match(w.json.message, /etcd-ops defrag --recover/);
    assert.equal((await srv.req('GET', '/api/v1/namespaces/default/secrets/newer')).status, 200);
    assert.equal((await srv.req('DELETE', '/api/v1/namespaces/default/secrets/newer')).status, 200);
    assert.equal(etcdctl(etcd, ['get', '/kubernetes.io/secrets/default/newer']).trim(), '');
  });
});
