/**
 * The API server's REST semantics over raw HTTPS and @kubernetes/client-node: security, Status
 * errors, conflicts, validation, admission, watch (incl. across a compaction), finalizers,
 * pagination, status subresources, metrics, SIGTERM.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { createCA, issueServerCert, issueClientCert, writeCertKeyPair, writeCert } from '../src/pki/index.js';
import { compactOnce, COMPACT_REV_KEY } from '../src/storage/compactor.js';
import * as k8s from '@kubernetes/client-node';
import { startEtcd, etcdctl, type StartedEtcd } from './helpers/etcd.js';
import { startAPIServer, ADMIN_TOKEN, BOB_TOKEN, type StartedAPIServer } from './helpers/apiserver.js';
import { waitFor } from '../src/util/time.js';
import { tempDir } from './helpers/cleanup.js';

const CM = (name: string, data: Record<string, string> = { a: '1' }, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data });

/** Opens a watch and collects its events until `until` is satisfied or the time is up. */
function watchEvents(srv: StartedAPIServer, path: string, until: (events: any[]) => boolean, timeoutMs = 15_000): Promise<{ status: number; events: any[] }> {
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let buf = '';
    const req = request(
      { host: '127.0.0.1', port: srv.port, path, method: 'GET', ca: readFileSync(srv.caFile), headers: { Authorization: 'Bearer admin-token-0123456789abcdef' } },
      (res) => {
        const done = () => {
          clearTimeout(t);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, events });
        };
        res.on('data', (d) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
          }
          if (until(events)) done();
        });
        res.on('end', done);
      },
    );
    const t = setTimeout(() => {
      req.destroy();
      reject(new Error(`watch ${path} timed out; events so far: ${JSON.stringify(events).slice(0, 500)}`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (!(e as NodeJS.ErrnoException).code?.includes('ECONNRESET')) reject(e);
    });
    req.end();
  });
}

describe('apiserver REST semantics', { timeout: 120_000 }, () => {
  let etcd: StartedEtcd;
  let srv: StartedAPIServer;
  const keyCount = (prefix: string) => etcdctl(etcd, ['get', prefix, '--prefix', '--keys-only']).split('\n').filter(Boolean).length;

  before(async () => {
    // etcd with client-certificate auth, certificates from src/pki: the API server's etcd client speaks TLS.
    const dir = tempDir('etcd-ops-rest-pki-');
    const ca = await createCA();
    writeCert(join(dir, 'ca.crt'), ca.certPem);
    const server = writeCertKeyPair(dir, 'etcd', await issueServerCert(ca, { commonName: 'etcd', dnsNames: ['localhost'] }));
    const client = writeCertKeyPair(dir, 'client', await issueClientCert(ca, { commonName: 'kube-apiserver' }));
    etcd = await startEtcd({ tls: { ca: join(dir, 'ca.crt'), serverCert: server.certFile, serverKey: server.keyFile, clientCert: client.certFile, clientKey: client.keyFile } });
    srv = await startAPIServer({ etcd, maxRequestBodyBytes: 64 * 1024, clientCertAuth: true, etcdTls: { caFile: join(dir, 'ca.crt'), certFile: client.certFile, keyFile: client.keyFile } });
  });
  after(async () => {
    await srv?.stop();
    await etcd?.stop();
  });

  it('health, version and discovery need no token; everything else does (401 Status)', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) assert.equal((await srv.req('GET', p, { token: null })).status, 200);
    const v = await srv.req('GET', '/version', { token: null });
    assert.equal(v.json.major, '1');
    assert.match(v.json.gitVersion, /^v1\.\d+\.\d+/);
    for (const token of [null, 'wrong-token']) {
      const r = await srv.req('GET', '/api/v1/namespaces/default/secrets', { token });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
    assert.equal((await srv.req('GET', '/api', { token: null })).status, 401);
  });

  it('client certificates from the clientCA authenticate: CN is the user, O the groups', async () => {
    const a = await srv.req('GET', '/api/v1/namespaces/openshift-config-managed/secrets', { token: null, clientCert: 'client-admin' });
    assert.equal(a.status, 200);
    const b = await srv.req('GET', '/api/v1/namespaces/openshift-config-managed/secrets', { token: null, clientCert: 'client-bob' });
    assert.equal(b.status, 403);
    assert.match(b.json.message, /User "cert-bob" cannot list/);
  });

  it('non-admins get what RBAC grants: bob, bound to edit in default, gets 403 on the keys and on config/operator objects', async () => {
    const admin = await srv.req('POST', '/api/v1/namespaces/openshift-config-managed/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encryption-key-x-1' }, data: { k: 'dg==' } } });
    assert.equal(admin.status, 201);
    assert.equal((await srv.req('GET', '/api/v1/namespaces/default/secrets', { token: BOB_TOKEN })).status, 403, 'nothing is granted before the binding');
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'bob-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }],
    };
    assert.equal((await srv.req('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { body: binding })).status, 201);
    await waitFor('the binding to reach the RBAC cache', 10_000, async () => ((await srv.req('GET', '/api/v1/namespaces/default/secrets', { token: BOB_TOKEN })).status === 200 ? true : undefined));
    const get = await srv.req('GET', '/api/v1/namespaces/openshift-config-managed/secrets/encryption-key-x-1', { token: BOB_TOKEN });
    assert.equal(get.status, 403);
    assert.equal(get.json.reason, 'Forbidden');
    assert.equal(get.json.message, 'secrets "encryption-key-x-1" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "openshift-config-managed"');
    const list = await srv.req('GET', '/api/v1/namespaces/openshift-config-managed/secrets', { token: BOB_TOKEN });
    assert.equal(list.status, 403);
    assert.equal(list.json.message, 'secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "openshift-config-managed"');
    assert.equal((await srv.req('GET', '/api/v1/namespaces/openshift-config-managed/secrets?watch=1', { token: BOB_TOKEN })).status, 403);
    assert.equal((await srv.req('GET', '/api/v1/secrets', { token: BOB_TOKEN })).status, 403, 'all-namespace lists would show them too');
    const patch = await srv.req('PATCH', '/apis/operator.openshift.io/v1/etcds/cluster', { token: BOB_TOKEN, body: { spec: { forceRedeploymentReason: 'x' } }, contentType: 'application/merge-patch+json' });
    assert.equal(patch.status, 403);
    assert.equal(patch.json.message, 'etcds.operator.openshift.io "cluster" is forbidden: User "bob" cannot patch resource "etcds" in API group "operator.openshift.io" at the cluster scope');
    assert.equal((await srv.req('DELETE', '/apis/config.openshift.io/v1/apiservers/cluster', { token: BOB_TOKEN })).status, 403);
    assert.equal((await srv.req('PUT', '/apis/operator.openshift.io/v1/kubeapiservers/cluster/status', { token: BOB_TOKEN, body: {} })).status, 403);
    assert.equal((await srv.req('GET', '/apis/operator.openshift.io/v1/etcds/cluster', { token: BOB_TOKEN })).status, 403, 'edit in a namespace grants nothing cluster-wide');
    assert.equal((await srv.req('POST', '/api/v1/namespaces/default/secrets', { token: BOB_TOKEN, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bobs' } } })).status, 201);
    assert.equal((await srv.req('GET', '/api/v1/namespaces/default/secrets/bobs', { token: BOB_TOKEN })).status, 200);
  });

  it('Status errors: 404, 409 AlreadyExists, 409 Conflict on a stale resourceVersion; update without one is unconditional', async () => {
    const nf = await srv.req('GET', '/api/v1/namespaces/default/configmaps/nope');
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'configmaps "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'configmaps' }, code: 404 });
    const c = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('c1') });
    assert.equal(c.status, 201);
    const dup = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('c1') });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.reason, 'AlreadyExists');
    assert.equal(dup.json.message, 'configmaps "c1" already exists');
    const rv1 = c.json.metadata.resourceVersion;
    const u1 = await srv.req('PUT', '/api/v1/namespaces/default/configmaps/c1', { body: { ...c.json, data: { a: '2' } } });
    assert.equal(u1.status, 200);
    assert.ok(Number(u1.json.metadata.resourceVersion) > Number(rv1));
    const stale = await srv.req('PUT', '/api/v1/namespaces/default/configmaps/c1', { body: { ...c.json, data: { a: '3' } } });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.reason, 'Conflict');
    assert.equal(stale.json.message, 'Operation cannot be fulfilled on configmaps "c1": the object has been modified; please apply your changes to the latest version and try again');
    const { resourceVersion: _rv, ...metaNoRv } = c.json.metadata;
    const unconditional = await srv.req('PUT', '/api/v1/namespaces/default/configmaps/c1', { body: { ...c.json, metadata: metaNoRv, data: { a: '4' } } });
    assert.equal(unconditional.status, 200);
    assert.equal(unconditional.json.metadata.uid, c.json.metadata.uid);
    assert.equal(unconditional.json.metadata.creationTimestamp, c.json.metadata.creationTimestamp);
    // A no-op update writes nothing: same resourceVersion.
    const noop = await srv.req('PUT', '/api/v1/namespaces/default/configmaps/c1', { body: unconditional.json });
    assert.equal(noop.json.metadata.resourceVersion, unconditional.json.metadata.resourceVersion);
    const del = await srv.req('DELETE', '/api/v1/namespaces/default/configmaps/c1', { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } } });
    assert.equal(del.status, 409, JSON.stringify(del.json));
    const delUid = await srv.req('DELETE', '/api/v1/namespaces/default/configmaps/c1', { body: { preconditions: { uid: 'other' }, propagationPolicy: 'Background' } });
    assert.equal(delUid.status, 409, 'uid precondition');
    assert.equal((await srv.req('DELETE', '/api/v1/namespaces/default/configmaps/c1?propagationPolicy=Foreground')).status, 200);
    assert.equal((await srv.req('DELETE', '/api/v1/namespaces/default/configmaps/c1')).status, 404);
  });

  it('bad bodies get a clear Status and store nothing: malformed JSON, unknown kind, wrong kind/apiVersion, oversized', async () => {
    const before = keyCount('/kubernetes.io/');
    const bad = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: '{"apiVersion":"v1","kind":"ConfigMap",' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.reason, 'BadRequest');
    assert.match(bad.json.message, /json parse error/);
    const unknown = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'Frobnicator', metadata: { name: 'x' } } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.message, /no kind "Frobnicator" is registered for version "v1"/);
    const wrongKind = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } } });
    assert.equal(wrongKind.status, 400);
    assert.match(wrongKind.json.message, /Secret in version "v1" cannot be handled as a ConfigMap/);
    const wrongAV = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } } });
    assert.equal(wrongAV.status, 400);
    assert.match(wrongAV.json.message, /the API version in the data \(apps\/v1\) does not match the expected API version \(v1\)/);
    const typeErr = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 1 } } });
    assert.equal(typeErr.status, 400);
    assert.match(typeErr.json.message, /cannot unmarshal number into Go struct field ConfigMap.data of type string/);
    const big = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('big', { a: 'x'.repeat(70 * 1024) }) });
    assert.equal(big.status, 413);
    assert.equal(big.json.reason, 'RequestEntityTooLarge');
    // Without a Content-Length (chunked), the limit is enforced while the body streams in.
    const chunked = await new Promise<{ status: number; text: string }>((resolveP, reject) => {
      const r = request(
        { host: '127.0.0.1', port: srv.port, path: '/api/v1/namespaces/default/configmaps', method: 'POST', ca: readFileSync(srv.caFile), timeout: 20_000, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolveP({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      r.on('error', reject);
      r.on('timeout', () => r.destroy(new Error('no answer to a chunked oversized body within 20 s')));
      const body = JSON.stringify(CM('big-chunked', { a: 'x'.repeat(70 * 1024) }));
      r.write(body.slice(0, 1000));
      r.end(body.slice(1000));
    });
    assert.equal(chunked.status, 413);
    assert.equal(JSON.parse(chunked.text).reason, 'RequestEntityTooLarge');
    const badName = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('Bad_Name') });
    assert.equal(badName.status, 422);
    assert.match(badName.json.message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    const badB64 = await srv.req('POST', '/api/v1/namespaces/default/secrets', { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b64' }, data: { k: 'not base64!' } } });
    assert.equal(badB64.status, 400);
    assert.match(badB64.json.message, /illegal base64 data at input byte/);
    const noNs = await srv.req('POST', '/api/v1/namespaces/ghost/configmaps', { body: CM('x') });
    assert.equal(noNs.status, 404);
    assert.equal(noNs.json.message, 'namespaces "ghost" not found');
    const ssa = await srv.req('PATCH', '/api/v1/namespaces/default/configmaps/x', { body: 'apiVersion: v1', contentType: 'application/apply-patch+yaml' });
    assert.equal(ssa.status, 415);
    assert.match(ssa.json.message, /server-side apply/);
    assert.equal(keyCount('/kubernetes.io/'), before, 'nothing was stored');
  });

  it('fieldValidation: unknown and duplicate fields dropped (Ignore), dropped with warnings (Warn, default), rejected (Strict)', async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv","bogus":1},"data":{"a":"1"},"extra":true,"data":{"a":"2"}}';
    const strict = await srv.req('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', { body });
    assert.equal(strict.status, 400);
    assert.equal(strict.json.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data", unknown field "metadata.bogus", unknown field "extra"');
    assert.equal(etcdctl(etcd, ['get', '/kubernetes.io/configmaps/default/fv', '--keys-only']).trim(), '');
    const warn = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body });
    assert.equal(warn.status, 201);
    assert.deepEqual(warn.headers.warning, '299 - "duplicate field \\"data\\"", 299 - "unknown field \\"metadata.bogus\\"", 299 - "unknown field \\"extra\\""');
    assert.equal(warn.json.extra, undefined);
    assert.deepEqual(warn.json.data, { a: '2' }, 'the last duplicate wins, as in kube');
    const stored = JSON.parse(etcdctl(etcd, ['get', '/kubernetes.io/configmaps/default/fv', '--print-value-only']));
    assert.equal(stored.extra, undefined);
    assert.equal(stored.metadata.bogus, undefined);
    const ignore = await srv.req('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', { body: body.replace('"fv"', '"fv2"') });
    assert.equal(ignore.status, 201);
    assert.equal(ignore.headers.warning, undefined);
    const strictPatch = await srv.req('PATCH', '/api/v1/namespaces/default/configmaps/fv?fieldValidation=Strict', { body: { nope: 1 }, contentType: 'application/merge-patch+json' });
    assert.equal(strictPatch.status, 400);
    assert.match(strictPatch.json.message, /strict decoding error: unknown field "nope"/);
    const unknownOp = await srv.req('POST', '/apis/operator.openshift.io/v1/etcds?fieldValidation=Strict', { body: { apiVersion: 'operator.openshift.io/v1', kind: 'Etcd', metadata: { name: 'x' }, spec: { unknownSetting: 1 } } });
    assert.equal(unknownOp.status, 400);
    assert.match(unknownOp.json.message, /unknown field "spec.unknownSetting"/);
  });

  it('admission: apiservers spec.encryption.type must be a supported value', async () => {
    const bad = await srv.req('PATCH', '/apis/config.openshift.io/v1/apiservers/cluster', { body: { spec: { encryption: { type: 'rot13' } } }, contentType: 'application/merge-patch+json' });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.reason, 'Invalid');
    assert.equal(bad.json.message, 'APIServer "cluster" is invalid: spec.encryption.type: Unsupported value: "rot13": supported values: "", "identity", "aescbc", "aesgcm", "secretbox"');
    assert.deepEqual(bad.json.details.causes, [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "rot13": supported values: "", "identity", "aescbc", "aesgcm", "secretbox"', field: 'spec.encryption.type' }]);
    for (const t of ['aescbc', 'identity', '']) {
      const ok = await srv.req('PATCH', '/apis/config.openshift.io/v1/apiservers/cluster', { body: { spec: { encryption: { type: t } } }, contentType: 'application/merge-patch+json' });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.spec.encryption.type, t);
    }
  });

  it('status subresource: main writes ignore status, status writes ignore spec; generation bumps on spec change only', async () => {
    const base = '/apis/operator.openshift.io/v1/kubeapiservers/cluster';
    const cur = (await srv.req('GET', base)).json;
    const gen = cur.metadata.generation;
    const s = await srv.req('PATCH', `${base}/status`, { contentType: 'application/merge-patch+json', body: { spec: { logLevel: 'Trace' }, status: { latestAvailableRevision: 7, nodeStatuses: [{ nodeName: 'master-0', currentRevision: 6, targetRevision: 7 }] } } });
    assert.equal(s.status, 200);
    assert.equal(s.json.status.latestAvailableRevision, 7);
    assert.equal(s.json.spec.logLevel, undefined, 'status writes ignore spec');
    assert.equal(s.json.metadata.generation, gen);
    const m = await srv.req('PATCH', base, { contentType: 'application/merge-patch+json', body: { spec: { logLevel: 'Debug' }, status: { latestAvailableRevision: 99 } } });
    assert.equal(m.json.status.latestAvailableRevision, 7, 'main writes ignore status');
    assert.equal(m.json.spec.logLevel, 'Debug');
    assert.equal(m.json.metadata.generation, gen + 1);
    const again = await srv.req('PATCH', base, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { a: 'b' } } } });
    assert.equal(again.json.metadata.generation, gen + 1, 'metadata changes do not bump generation');
    const smp = await srv.req('PATCH', base, { contentType: 'application/strategic-merge-patch+json', body: { $setElementOrder: 1, spec: { $retainKeys: ['managementState', 'logLevel', 'forceRedeploymentReason'], forceRedeploymentReason: 'r' }, metadata: { labels: { $patch: 'replace', c: 'd' } } } });
    assert.equal(smp.status, 200, JSON.stringify(smp.json));
    assert.equal(smp.json.spec.forceRedeploymentReason, 'r');
    assert.deepEqual(smp.json.metadata.labels, { c: 'd' });
    assert.equal(smp.json.$setElementOrder, undefined);
  });

  it('finalizers: delete marks deletionTimestamp; removing the last finalizer deletes', async () => {
    assert.equal((await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('fin', { a: '1' }, { finalizers: ['example.com/hold'] }) })).status, 201);
    const d = await srv.req('DELETE', '/api/v1/namespaces/default/configmaps/fin');
    assert.equal(d.status, 202);
    assert.ok(d.json.metadata.deletionTimestamp);
    const g = await srv.req('GET', '/api/v1/namespaces/default/configmaps/fin');
    assert.ok(g.json.metadata.deletionTimestamp);
    const add = await srv.req('PATCH', '/api/v1/namespaces/default/configmaps/fin', { contentType: 'application/merge-patch+json', body: { metadata: { finalizers: ['example.com/hold', 'new'] } } });
    assert.equal(add.status, 422);
    const rm = await srv.req('PATCH', '/api/v1/namespaces/default/configmaps/fin', { contentType: 'application/json-patch+json', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    assert.equal(rm.status, 200);
    assert.equal((await srv.req('GET', '/api/v1/namespaces/default/configmaps/fin')).status, 404);
  });

  it('lists: resourceVersion of the read, limit/continue at that revision, label and field selectors, generateName, dryRun', async () => {
    await srv.req('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging' } } });
    for (let i = 0; i < 7; i++) {
      const r = await srv.req('POST', '/api/v1/namespaces/paging/configmaps', { body: CM('', { i: String(i) }, { generateName: 'page-', labels: { parity: i % 2 ? 'odd' : 'even' } }) });
      assert.equal(r.status, 201);
      assert.match(r.json.metadata.name, /^page-[a-z0-9]{5}$/);
    }
    const p1 = await srv.req('GET', '/api/v1/namespaces/paging/configmaps?limit=3');
    assert.equal(p1.json.kind, 'ConfigMapList');
    assert.equal(p1.json.items.length, 3);
    assert.equal(p1.json.metadata.remainingItemCount, 4, JSON.stringify(p1.json.metadata));
    const listRv = p1.json.metadata.resourceVersion;
    // A change after the first page is not seen by the continuation (same revision).
    await srv.req('POST', '/api/v1/namespaces/paging/configmaps', { body: CM('page-zzzzz-late') });
    const p2 = await srv.req('GET', `/api/v1/namespaces/paging/configmaps?limit=3&continue=${encodeURIComponent(p1.json.metadata.continue)}`);
    const p3 = await srv.req('GET', `/api/v1/namespaces/paging/configmaps?limit=3&continue=${encodeURIComponent(p2.json.metadata.continue)}`);
    assert.equal(p2.json.metadata.resourceVersion, listRv);
    const names = [...p1.json.items, ...p2.json.items, ...p3.json.items].map((o: any) => o.metadata.name);
    assert.equal(names.length, 7);
    assert.equal(new Set(names).size, 7);
    assert.equal(p3.json.metadata.continue, undefined);
    const odd = await srv.req('GET', '/api/v1/namespaces/paging/configmaps?labelSelector=parity%3Dodd');
    assert.equal(odd.json.items.length, 3);
    const notOdd = await srv.req('GET', '/api/v1/namespaces/paging/configmaps?labelSelector=' + encodeURIComponent('parity notin (odd),parity'));
    assert.equal(notOdd.json.items.length, 4);
    const byName = await srv.req('GET', `/api/v1/configmaps?fieldSelector=metadata.name%3D${names[0]}`);
    assert.deepEqual(byName.json.items.map((o: any) => o.metadata.name), [names[0]]);
    const badSel = await srv.req('GET', '/api/v1/configmaps?fieldSelector=spec.x%3D1');
    assert.equal(badSel.status, 400);
    const dc = await srv.req('DELETE', '/api/v1/namespaces/paging/configmaps?labelSelector=parity%3Dodd');
    assert.equal(dc.status, 200);
    assert.equal(dc.json.items.length, 3);
    assert.equal((await srv.req('GET', '/api/v1/namespaces/paging/configmaps?labelSelector=parity%3Dodd')).json.items.length, 0);
    const dry = await srv.req('POST', '/api/v1/namespaces/paging/configmaps?dryRun=All', { body: CM('dry') });
    assert.equal(dry.status, 201);
    assert.equal((await srv.req('GET', '/api/v1/namespaces/paging/configmaps/dry')).status, 404);
    const table = await srv.req('GET', '/api/v1/namespaces/paging/configmaps?limit=2', { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    assert.equal(table.json.kind, 'Table');
    assert.deepEqual(table.json.columnDefinitions.map((c: any) => c.name), ['Name', 'Data', 'Age']);
    assert.equal(table.json.rows.length, 2);
    assert.equal(table.json.rows[0].object.kind, 'PartialObjectMetadata');
  });

  it('watch: ADDED/MODIFIED/DELETED with selectors; synthetic ADDED without resourceVersion; BOOKMARKs', async () => {
    const rv = (await srv.req('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion;
    const w = watchEvents(srv, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&labelSelector=w%3Dyes`, (ev) => ev.length >= 4);
    await new Promise((r) => setTimeout(r, 300));
    await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('w1', { a: '1' }, { labels: { w: 'yes' } }) });
    await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('w-other') });
    await srv.req('PATCH', '/api/v1/namespaces/default/configmaps/w1', { contentType: 'application/merge-patch+json', body: { data: { a: '2' } } });
    await srv.req('PATCH', '/api/v1/namespaces/default/configmaps/w-other', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { w: 'yes' } } } });
    await srv.req('DELETE', '/api/v1/namespaces/default/configmaps/w1');
    const { events } = await w;
    assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'ADDED w-other', 'DELETED w1']);
    assert.equal(events[1].object.data.a, '2');
    assert.ok(Number(events[3].object.metadata.resourceVersion) > Number(events[1].object.metadata.resourceVersion));
    const initial = await watchEvents(srv, '/api/v1/namespaces/default/configmaps?watch=true&labelSelector=w%3Dyes', (ev) => ev.length >= 1);
    assert.deepEqual(initial.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w-other']);
    const bm = await watchEvents(srv, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&labelSelector=none%3Dnone`, (ev) => ev.some((e) => e.type === 'BOOKMARK'), 20_000);
    const b = bm.events.find((e) => e.type === 'BOOKMARK');
    assert.equal(b.object.kind, 'ConfigMap');
    assert.match(b.object.metadata.resourceVersion, /^\d+$/);
    const short = await watchEvents(srv, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1&labelSelector=none%3Dnone`, () => false, 10_000);
    assert.equal(short.status, 200, 'timeoutSeconds ends the stream');
  });

  it('watch from a compacted resourceVersion gets an ERROR event with a 410 Expired Status', async () => {
    const old = (await srv.req('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion;
    for (let i = 0; i < 3; i++) await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM(`compact-${i}`) });
    const head = Number((await srv.req('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion);
    etcdctl(etcd, ['compact', String(head)]);
    const r = await watchEvents(srv, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}`, (ev) => ev.length >= 1);
    assert.equal(r.status, 200);
    assert.equal(r.events[0].type, 'ERROR');
    assert.equal(r.events[0].object.kind, 'Status');
    assert.equal(r.events[0].object.code, 410);
    assert.equal(r.events[0].object.reason, 'Expired');
    assert.equal(r.events[0].object.message, `too old resource version: ${old} (${head - 1})`);
    const l = await srv.req('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${old}&resourceVersionMatch=Exact`);
    assert.equal(l.status, 410);
  });

  it('@kubernetes/client-node: CRUD and watch', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(srv.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'cn' }, stringData: { user: 'alice' } } });
    assert.equal(created.data?.user, Buffer.from('alice').toString('base64'));
    const read = await core.readNamespacedSecret({ name: 'cn', namespace: 'default' });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    read.data = { user: Buffer.from('bob').toString('base64') };
    const replaced = await core.replaceNamespacedSecret({ name: 'cn', namespace: 'default', body: read });
    assert.equal(Buffer.from(replaced.data!.user!, 'base64').toString(), 'bob');
    await assert.rejects(core.replaceNamespacedSecret({ name: 'cn', namespace: 'default', body: read }), (e: any) => e.code === 409);
    const list = await core.listNamespacedSecret({ namespace: 'default' });
    assert.ok(list.items.some((s) => s.metadata?.name === 'cn'));
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const etcdObj: any = await custom.getClusterCustomObject({ group: 'operator.openshift.io', version: 'v1', plural: 'etcds', name: 'cluster' });
    assert.equal(etcdObj.kind, 'Etcd');

    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    let ctrl: AbortController | undefined;
    const done = new Promise<void>((resolve, reject) => {
      watch
        .watch('/api/v1/namespaces/default/secrets', { resourceVersion: replaced.metadata!.resourceVersion }, (type, obj) => {
          seen.push(`${type} ${obj.metadata.name}`);
          if (seen.length >= 2) resolve();
        }, (err) => (err ? reject(err) : undefined))
        .then((c) => (ctrl = c), reject);
    });
    await waitFor('the client-node watch to open', 10_000, () => (ctrl ? true : undefined), 20);
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'cn2' } } });
    await core.deleteNamespacedSecret({ name: 'cn', namespace: 'default' });
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`watch saw only ${seen}`)), 15_000))]);
    ctrl?.abort();
    assert.deepEqual(seen, ['ADDED cn2', 'DELETED cn']);
  });

  it('compaction is coordinated through compact_rev_key: one winner per interval, one interval of history kept', async () => {
    const tls = etcd.ctlArgs;
    const client = new Etcd3({
      hosts: etcd.clientURL,
      credentials: { rootCertificate: readFileSync(tls[tls.indexOf('--cacert') + 1]!), certChain: readFileSync(tls[tls.indexOf('--cert') + 1]!), privateKey: readFileSync(tls[tls.indexOf('--key') + 1]!) },
    });
    try {
      await client.delete().key(COMPACT_REV_KEY);
      let a = await compactOnce(client, { time: 0, rev: 0 }, 5000);
      let b = await compactOnce(client, { time: 0, rev: 0 }, 5000);
      assert.equal(a.compacted, undefined, 'nothing is compacted on the first step');
      assert.equal(a.time, 1);
      assert.equal(b.time, 1, 'the loser learns the current version');
      assert.equal(b.compacted, undefined);
      const seenAtA = a.rev;
      await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('after-step-1') });
      a = await compactOnce(client, a, 5000);
      b = await compactOnce(client, b, 5000);
      assert.equal(a.compacted, seenAtA, 'the winner compacts to the revision seen one interval ago');
      assert.equal(b.compacted, undefined, 'only one server compacts per interval');
      assert.equal((await client.get(COMPACT_REV_KEY).string()), String(seenAtA));
      // History after the compacted revision is still there: a watch from it works.
      const w = await watchEvents(srv, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${seenAtA}&fieldSelector=metadata.name%3Dafter-step-1`, (ev) => ev.length >= 1);
      assert.equal(w.events[0].type, 'ADDED');
    } finally {
      client.close();
    }
  });

  it('metrics count requests and storage transforms; watchers are released', async () => {
    await waitFor('watch gauges to return to 0', 10_000, async () => {
      const t = (await srv.req('GET', '/metrics')).text;
      return /apiserver_registered_watchers\{group="",resource="configmaps"\} 0\n/.test(t) ? true : undefined;
    });
    const m = await srv.req('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.text, /apiserver_request_total\{verb="POST",group="",resource="configmaps",subresource="",code="201"\} \d+/);
    assert.match(m.text, /apiserver_request_duration_seconds_bucket\{le="[^"]+",verb="GET"/);
    assert.match(m.text, /apiserver_storage_transformation_operations_total\{transformation_type="from_storage",transformer_prefix="identity",status="OK"\} \d+/);
    assert.equal((await srv.req('GET', '/metrics', { token: null })).status, 401);
  });

  it('etcd unreachable: 503/504 Status within the etcd deadline, never a hang; readyz fails', async () => {
    await etcd.stop();
    const t0 = Date.now();
    const r = await srv.req('GET', '/api/v1/namespaces/default/configmaps');
    assert.ok([503, 504].includes(r.status), `status ${r.status}: ${r.text}`);
    assert.equal(r.json.kind, 'Status');
    assert.ok(Date.now() - t0 < 15_000, 'bounded');
    const w = await srv.req('POST', '/api/v1/namespaces/default/configmaps', { body: CM('down') });
    assert.ok([503, 504].includes(w.status), `status ${w.status}: ${w.text}`);
    assert.equal((await srv.req('GET', '/readyz', { token: null })).status, 500);
    assert.equal((await srv.req('GET', '/livez', { token: null })).status, 200);
  });

  it('SIGTERM: the server stops accepting, exits 0', async () => {
    const code = await srv.stop('SIGTERM');
    assert.equal(code, 0);
    assert.match(readFileSync(srv.logFile, 'utf8'), /received SIGTERM[\s\S]*stopped/);
  });
});
