/**
 * The API server attacked as issue 10 did it, one real etcd and one API server for the whole
 * file: a regression test per finding (each failed on the code before the fix), RBAC through real
 * kubectl (auth can-i, escalation), the query options of issue 18 over HTTP (watch=True streams,
 * pretty, client-node informers with bookmarks), and a seeded, bounded API fuzzer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { startEtcd, etcdctl, type StartedEtcd } from './helpers/etcd.js';
import { startAPIServer, BOB_TOKEN, DEVELOPER_TOKEN, ADMIN_TOKEN, type StartedAPIServer } from './helpers/apiserver.js';
import { waitFor } from '../src/util/time.js';

/** Secret values planted where the developer may not read; none may ever reach the developer. */
const MARKERS = ['fuzz-key-material-0f3c9a', 'enc-config-material-7b21d4', 'kube-system-material-55e0aa', 'default-material-c0ffee'];
const PLANTED: Array<[string, string, string]> = [
  ['openshift-config-managed', 'encryption-key-openshift-kube-apiserver-1', MARKERS[0]!],
  ['openshift-kube-apiserver', 'encryption-config', MARKERS[1]!],
  ['kube-system', 'planted', MARKERS[2]!],
  ['default', 'planted', MARKERS[3]!],
];
const leaks = (text: string) => MARKERS.filter((m) => text.includes(m) || text.includes(Buffer.from(m).toString('base64')));

interface Raw {
  status: number;
  text: string;
  json: any;
}

/**
 * One request sent exactly as given (no path normalisation), read until it ends or `idleMs` after
 * its headers (a watch stays open): enough to see what a watch streams first.
 */
function raw(srv: StartedAPIServer, method: string, path: string, o: { token?: string | null; body?: string | Buffer; headers?: Record<string, string>; idleMs?: number } = {}): Promise<Raw> {
  const token = o.token === undefined ? ADMIN_TOKEN : o.token;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: srv.port,
        method,
        path,
        ca: readFileSync(srv.caFile),
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(o.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(o.body)) } : {}),
          ...(o.headers ?? {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const done = () => {
          clearTimeout(t);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {}
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text, json });
        };
        const t = setTimeout(done, o.idleMs ?? 10_000);
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

const json = (o: unknown) => ({ body: JSON.stringify(o), headers: { 'Content-Type': 'application/json' } });
const mergePatch = (o: unknown) => ({ body: JSON.stringify(o), headers: { 'Content-Type': 'application/merge-patch+json' } });
const secret = (name: string, data: Record<string, string>, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, ...(labels ? { labels } : {}) },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

describe('API server security: the findings of issue 10, RBAC, the options of issue 18', { timeout: 300_000 }, () => {
  let etcd: StartedEtcd;
  let srv: StartedAPIServer;

  before(async () => {
    etcd = await startEtcd();
    srv = await startAPIServer({ etcd });
    for (const [ns, name, marker] of PLANTED) {
      const r = await raw(srv, 'POST', `/api/v1/namespaces/${ns}/secrets`, json(secret(name, { key: marker })));
      assert.equal(r.status, 201, r.text);
    }
  });
  after(async () => {
    await srv?.stop();
    await etcd?.stop();
  });

  it('finding: an empty namespace segment (/namespaces//secrets) is a 404 for list, watch and a dry-run delete, for everyone', async () => {
    for (const token of [DEVELOPER_TOKEN, ADMIN_TOKEN]) {
      for (const [method, path] of [
        ['GET', '/api/v1/namespaces//secrets'],
        ['GET', '/api/v1/namespaces//secrets?watch=1'],
        ['DELETE', '/api/v1/namespaces//secrets?dryRun=All'],
        ['GET', '/api/v1/namespaces//secrets/encryption-config'],
        ['POST', '/api/v1/namespaces//secrets'],
      ] as const) {
        const r = await raw(srv, method, path, { token, idleMs: 1000, ...(method === 'POST' ? json(secret('x', {})) : {}) });
        assert.equal(r.status, 404, `${method} ${path}: ${r.text.slice(0, 200)}`);
        assert.equal(r.json?.reason, 'NotFound');
        assert.deepEqual(leaks(r.text), []);
      }
    }
    assert.equal((await raw(srv, 'GET', '/api/v1/namespaces//secrets', { token: null })).status, 401, 'authentication still comes first');
    for (const [, name, marker] of PLANTED) assert.match(etcdctl(etcd, ['get', '--prefix', '/kubernetes.io/secrets/', '--print-value-only']), new RegExp(Buffer.from(marker).toString('base64')), `${name} survived`);
  });

  it('finding: the developer can neither read nor patch openshift-kube-apiserver/encryption-config (nor list secrets across namespaces)', async () => {
    const path = '/api/v1/namespaces/openshift-kube-apiserver/secrets/encryption-config';
    const get = await raw(srv, 'GET', path, { token: DEVELOPER_TOKEN });
    assert.equal(get.status, 403);
    assert.equal(get.json.message, 'secrets "encryption-config" is forbidden: User "developer" cannot get resource "secrets" in API group "" in the namespace "openshift-kube-apiserver"');
    const patch = await raw(srv, 'PATCH', path, { token: DEVELOPER_TOKEN, ...mergePatch({ data: { key: Buffer.from('mine').toString('base64') } }) });
    assert.equal(patch.status, 403);
    const kubectl = srv.kubectl(['get', 'secret', '-n', 'openshift-kube-apiserver', 'encryption-config', '-o', 'jsonpath={.data}'], { token: DEVELOPER_TOKEN });
    assert.notEqual(kubectl.status, 0);
    assert.match(kubectl.stderr, /Forbidden/);
    for (const p of ['/api/v1/secrets', '/api/v1/secrets?watch=1', '/api/v1/namespaces/openshift-config-managed/secrets']) {
      const r = await raw(srv, 'GET', p, { token: DEVELOPER_TOKEN, idleMs: 1000 });
      assert.equal(r.status, 403, p);
      assert.deepEqual(leaks(r.text), []);
    }
    const stored = await raw(srv, 'GET', path);
    assert.equal(Buffer.from(stored.json.data.key, 'base64').toString(), MARKERS[1], 'unchanged');
    const own = await raw(srv, 'POST', '/api/v1/namespaces/developer/secrets', { token: DEVELOPER_TOKEN, ...json(secret('mine', { a: 'b' })) });
    assert.equal(own.status, 201, 'the developer edits its own namespace');
  });

  it('finding: a patch cannot move an object to another namespace or rename it (400, as kube), nor change its uid (422) or creationTimestamp', async () => {
    const c = await raw(srv, 'POST', '/api/v1/namespaces/default/secrets', json(secret('movable', { a: 'b' })));
    assert.equal(c.status, 201);
    const path = '/api/v1/namespaces/default/secrets/movable';
    const kinds: Array<[string, unknown]> = [
      ['application/json-patch+json', [{ op: 'replace', path: '/metadata/namespace', value: 'kube-system' }]],
      ['application/merge-patch+json', { metadata: { namespace: 'kube-system' } }],
      ['application/strategic-merge-patch+json', { metadata: { namespace: 'kube-system' } }],
    ];
    for (const [ct, body] of kinds) {
      const r = await raw(srv, 'PATCH', path, { body: JSON.stringify(body), headers: { 'Content-Type': ct } });
      assert.equal(r.status, 400, `${ct}: ${r.text}`);
      assert.equal(r.json.message, 'the namespace of the object (kube-system) does not match the namespace on the request (default)');
    }
    const rename = await raw(srv, 'PATCH', path, mergePatch({ metadata: { name: 'other' } }));
    assert.equal(rename.status, 400);
    const uid = await raw(srv, 'PATCH', path, mergePatch({ metadata: { uid: 'forged' } }));
    assert.equal(uid.status, 422);
    assert.equal(uid.json.reason, 'Invalid');
    assert.match(uid.json.message, /metadata\.uid: Invalid value: "forged": field is immutable/);
    const ts = await raw(srv, 'PATCH', path, mergePatch({ metadata: { creationTimestamp: '2000-01-01T00:00:00Z' } }));
    assert.equal(ts.status, 200, 'kube ignores a changed creationTimestamp');
    const now = await raw(srv, 'GET', path);
    assert.equal(now.json.metadata.namespace, 'default');
    assert.equal(now.json.metadata.uid, c.json.metadata.uid);
    assert.equal(now.json.metadata.creationTimestamp, c.json.metadata.creationTimestamp);
    assert.equal(JSON.parse(etcdctl(etcd, ['get', '/kubernetes.io/secrets/default/movable', '--print-value-only'])).metadata.namespace, 'default', 'the stored object agrees with its key');
    assert.equal(etcdctl(etcd, ['get', '/kubernetes.io/secrets/kube-system/movable', '--keys-only']).trim(), '');
  });

  it('finding: label selectors never match Object.prototype properties (kubectl delete cm -l constructor)', async () => {
    assert.equal((await raw(srv, 'POST', '/api/v1/namespaces', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'probe' } }))).status, 201);
    assert.equal((await raw(srv, 'POST', '/api/v1/namespaces/probe/configmaps', json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', labels: { app: 'x' } } }))).status, 201);
    for (const sel of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const d = srv.kubectl(['-n', 'probe', 'delete', 'cm', '-l', sel]);
      // __proto__ is no label key: refused (by kubectl or the server); the others select nothing.
      if (sel === '__proto__') assert.notEqual(d.status, 0);
      else assert.match(`${d.stdout}${d.stderr}`, /No resources found/, sel);
      const l = await raw(srv, 'GET', `/api/v1/namespaces/probe/configmaps?labelSelector=${sel}`);
      if (sel !== '__proto__') assert.deepEqual(l.json.items, [], sel);
    }
    assert.equal((await raw(srv, 'GET', '/api/v1/namespaces/probe/configmaps/keep')).status, 200, 'still there');
  });

  it('finding: deleting openshift-*, kube-system or default is refused to all but system:masters, even with cluster-admin', async () => {
    const dev = srv.kubectl(['delete', 'ns', 'openshift-etcd', '--dry-run=server'], { token: DEVELOPER_TOKEN });
    assert.notEqual(dev.status, 0);
    assert.match(dev.stderr, /Forbidden/);
    const crb = srv.kubectl(['create', 'clusterrolebinding', 'bob-cluster-admin', '--clusterrole=cluster-admin', '--user=bob']);
    assert.equal(crb.status, 0, crb.stderr);
    await waitFor('bob to be cluster-admin', 10_000, async () => ((await raw(srv, 'GET', '/api/v1/namespaces', { token: BOB_TOKEN })).status === 200 ? true : undefined));
    for (const ns of ['openshift-etcd', 'openshift-config-managed', 'kube-system', 'default']) {
      const r = await raw(srv, 'DELETE', `/api/v1/namespaces/${ns}?dryRun=All`, { token: BOB_TOKEN });
      assert.equal(r.status, 403, ns);
      assert.match(r.json.message, /only members of system:masters may delete it|may not be deleted/);
    }
    assert.equal((await raw(srv, 'POST', '/api/v1/namespaces', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } }))).status, 201);
    assert.equal((await raw(srv, 'DELETE', '/api/v1/namespaces/scratch?dryRun=All', { token: BOB_TOKEN })).status, 200, 'other namespaces are bob’s to delete');
    assert.equal((await raw(srv, 'DELETE', '/api/v1/namespaces/openshift-etcd?dryRun=All')).status, 200, 'system:masters may');
    assert.equal(srv.kubectl(['delete', 'clusterrolebinding', 'bob-cluster-admin']).status, 0);
    await waitFor('bob to lose cluster-admin', 10_000, async () => ((await raw(srv, 'GET', '/api/v1/namespaces', { token: BOB_TOKEN })).status === 403 ? true : undefined));
  });

  it('finding: label keys and values, and annotations, are validated as kube-apiserver does (422)', async () => {
    const bad = [
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l1","labels":{"bad key!":"v"}}}',
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l2","labels":{"__proto__":"v"}}}',
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l3","labels":{"ok":"bad value!"}}}',
      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l4","annotations":{"a":"${'x'.repeat(256 * 1024)}"}}}`,
    ];
    for (const body of bad) {
      const r = await raw(srv, 'POST', '/api/v1/namespaces/probe/configmaps', { body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 422, body.slice(0, 100));
      assert.equal(r.json.reason, 'Invalid');
      assert.match(r.json.message, /metadata\.(labels|annotations)/);
    }
    const patch = await raw(srv, 'PATCH', '/api/v1/namespaces/probe/configmaps/keep', mergePatch({ metadata: { labels: { 'bad key!': 'v' } } }));
    assert.equal(patch.status, 422, 'patches are validated too');
  });

  it('finding: bad percent-encoding is a 400 Status, never a 500 with a stack trace', async () => {
    for (const p of ['/api/v1/namespaces/default/secrets/%ZZ', '/api/v1/namespaces/default/secrets/%', '/api/v1/namespaces/%E0%A4%A/secrets', '/apis/%ZZ']) {
      for (const token of [DEVELOPER_TOKEN, ADMIN_TOKEN]) {
        const r = await raw(srv, 'GET', p, { token });
        assert.equal(r.status, 400, p);
        assert.equal(r.json.reason, 'BadRequest');
      }
    }
    assert.doesNotMatch(readFileSync(srv.logFile, 'utf8'), /URIError|URI malformed/);
  });

  it('finding: a value over etcd’s request limit is a 413 RequestEntityTooLarge Status, as kube-apiserver answers', async () => {
    for (const mb of [1.6, 2]) {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `big-${mb}` }, data: { big: Buffer.alloc(mb * 1024 * 1024, 7).toString('base64').slice(0, Math.floor((mb * 1024 * 1024) / 4) * 4) } });
      const r = await raw(srv, 'POST', '/api/v1/namespaces/default/secrets', { body, headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 413, `${mb} MB: ${r.text.slice(0, 300)}`);
      assert.equal(r.json.reason, 'RequestEntityTooLarge');
      assert.equal(r.json.message, 'Request entity too large: etcdserver: request is too large');
    }
    assert.equal((await raw(srv, 'GET', '/readyz', { token: null })).status, 200);
  });

  it('finding: watch and list parameters are validated as kube-apiserver does', async () => {
    const base = '/api/v1/namespaces/default/configmaps';
    const huge = await raw(srv, 'GET', `${base}?watch=1&timeoutSeconds=99999999999999999999`);
    assert.equal(huge.status, 400);
    assert.match(huge.json.message, /query parameter "timeoutSeconds"/);
    for (const [q, param] of [['limit=abc', 'limit'], ['limit=1.5', 'limit'], ['watch=1&timeoutSeconds=abc', 'timeoutSeconds']]) {
      const r = await raw(srv, 'GET', `${base}?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.json.message, new RegExp(`"${param}"`));
    }
    for (const q of ['resourceVersion=abc', 'watch=1&resourceVersion=abc']) {
      const r = await raw(srv, 'GET', `${base}?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.message, 'invalid resource version: "abc"');
    }
    const all = await raw(srv, 'GET', `${base}?limit=-1`);
    assert.equal(all.status, 200, 'kube pages only for limit > 0');
    assert.equal(all.json.metadata.continue, undefined);
    const started = Date.now();
    for (const q of ['watch=1&resourceVersion=99999999999', 'resourceVersion=99999999999']) {
      const future = await raw(srv, 'GET', `${base}?${q}`, { idleMs: 10_000 });
      assert.equal(future.status, 504, `${q}: ${future.text}`);
      assert.equal(future.json.reason, 'Timeout');
      assert.match(future.json.message, /^Too large resource version: 99999999999, current: \d+$/);
      assert.equal(future.json.details.causes[0].reason, 'ResourceVersionTooLarge');
    }
    assert.ok(Date.now() - started < 15_000, 'answered, not hung');
    const short = await raw(srv, 'GET', `${base}?watch=1&timeoutSeconds=1&labelSelector=none%3Dnone`, { idleMs: 10_000 });
    assert.equal(short.status, 200, 'a valid timeout still ends the watch');
  });

  it('issue 18: watch=True, watch=t and watch=1 stream events (and watch=yes, as kube’s conversion reads it); watch=false lists', async () => {
    const cm = await raw(srv, 'POST', '/api/v1/namespaces/developer/configmaps', { token: DEVELOPER_TOKEN, ...json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' } }) });
    assert.equal(cm.status, 201);
    for (const w of ['True', 't', '1', 'yes', 'TRUE']) {
      const r = await raw(srv, 'GET', `/api/v1/namespaces/developer/configmaps?watch=${w}`, { token: DEVELOPER_TOKEN, idleMs: 300 });
      assert.equal(r.status, 200, w);
      const first = JSON.parse(r.text.split('\n')[0]!);
      assert.equal(first.type, 'ADDED', `watch=${w} streams events`);
    }
    for (const w of ['false', 'False', '0']) {
      const r = await raw(srv, 'GET', `/api/v1/namespaces/developer/configmaps?watch=${w}`, { token: DEVELOPER_TOKEN });
      assert.equal(r.json.kind, 'ConfigMapList', w);
    }
    const bm = await raw(srv, 'GET', `/api/v1/namespaces/developer/configmaps?watch=True&allowWatchBookmarks=True&resourceVersion=${(await raw(srv, 'GET', '/api/v1/namespaces/developer/configmaps')).json.metadata.resourceVersion}`, { token: DEVELOPER_TOKEN, idleMs: 3000 });
    assert.match(bm.text, /"type":"BOOKMARK"/, 'allowWatchBookmarks=True gives bookmarks');
  });

  it('issue 18: pretty=true indents JSON (Status errors too); unknown parameters are ignored', async () => {
    const p = await raw(srv, 'GET', '/api/v1/namespaces/probe/configmaps/keep?pretty=true&nonsense=1');
    assert.equal(p.status, 200);
    assert.match(p.text, /^\{\n {2}"kind": "ConfigMap",\n/);
    const e = await raw(srv, 'GET', '/api/v1/namespaces/probe/configmaps/nope?pretty=1');
    assert.match(e.text, /^\{\n {2}"kind": "Status"/);
    assert.doesNotMatch((await raw(srv, 'GET', '/api/v1/namespaces/probe/configmaps/keep?pretty=yes')).text, /\n/, 'pretty=yes is not a ParseBool form: compact');
    assert.match((await raw(srv, 'GET', '/api/v1/namespaces/probe/configmaps/keep', { headers: { 'User-Agent': 'curl/8.5.0' } })).text, /^\{\n/, 'curl gets pretty output, as from kube-apiserver');
  });

  it('issue 18: client-node informers keep working, with bookmarks', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(srv.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'informed' } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/informed/configmaps', () => core.listNamespacedConfigMap({ namespace: 'informed' }));
    const seen: string[] = [];
    informer.on(k8s.ADD, (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on(k8s.UPDATE, (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on(k8s.DELETE, (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: 'informed', body: { metadata: { name: 'a' }, data: { v: '1' } } });
      await waitFor('the informer to see the add', 10_000, () => (seen.includes('add a') ? true : undefined), 20);
      await core.patchNamespacedConfigMap({ name: 'a', namespace: 'informed', body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'informed' });
      await waitFor('the informer to see update and delete', 10_000, () => (seen.includes('delete a') ? true : undefined), 20);
      assert.deepEqual(seen, ['add a', 'update a', 'delete a']);
    } finally {
      await informer.stop();
    }
    // client-node's own Watch asks for bookmarks the way its informers do.
    const events: string[] = [];
    let ctrl: AbortController | undefined;
    await new k8s.Watch(kc).watch('/api/v1/namespaces/informed/configmaps', { allowWatchBookmarks: true, resourceVersion: '1' }, (type) => events.push(type), () => undefined).then((c) => (ctrl = c));
    try {
      await waitFor('a BOOKMARK through client-node', 10_000, () => (events.includes('BOOKMARK') ? true : undefined), 50);
    } finally {
      ctrl?.abort();
    }
  });

  it('RBAC through kubectl: roles and bindings, escalation refused, auth can-i and can-i --list', async () => {
    assert.equal(srv.kubectl(['create', 'namespace', 'team']).status, 0);
    const bind = srv.kubectl(['create', 'rolebinding', 'bob-admin', '--clusterrole=admin', '--user=bob', '-n', 'team']);
    assert.equal(bind.status, 0, bind.stderr);
    const bob = (args: string[]) => srv.kubectl(args, { token: BOB_TOKEN });
    await waitFor('bob to be admin of team', 10_000, () => (bob(['auth', 'can-i', 'create', 'roles', '-n', 'team']).stdout.trim() === 'yes' ? true : undefined), 200);
    assert.equal(bob(['auth', 'can-i', 'get', 'secrets', '-n', 'team']).stdout.trim(), 'yes');
    assert.equal(bob(['auth', 'can-i', 'get', 'secrets', '-n', 'default']).stdout.trim(), 'no');
    const list = bob(['auth', 'can-i', '--list', '-n', 'team']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^roles\.rbac\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[get list watch create update patch delete deletecollection\]$/m);
    const fine = bob(['create', 'role', 'cm-reader', '--verb=get', '--resource=configmaps', '-n', 'team']);
    assert.equal(fine.status, 0, fine.stderr);
    const tooMuch = bob(['create', 'role', 'config-reader', '--verb=get', '--resource=apiservers.config.openshift.io', '-n', 'team']);
    assert.notEqual(tooMuch.status, 0);
    assert.match(tooMuch.stderr, /is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["config\.openshift\.io"\], Resources:\["apiservers"\], Verbs:\["get"\]\}/);
    const toAdmin = bob(['create', 'rolebinding', 'me-cluster-admin', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team']);
    assert.notEqual(toAdmin.status, 0);
    assert.match(toAdmin.stderr, /is forbidden: user "bob" .*attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/s);
    assert.equal(bob(['create', 'rolebinding', 'x-view', '--clusterrole=view', '--user=x', '-n', 'team']).status, 0, 'view is within admin');
    // The `bind` verb on a role lets bob bind it without holding its permissions.
    const binder = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'binder' }, rules: [{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }] };
    assert.equal((await raw(srv, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles', json(binder))).status, 201);
    assert.equal(srv.kubectl(['create', 'rolebinding', 'bob-binder', '--role=binder', '--user=bob', '-n', 'team']).status, 0);
    await waitFor('bob to hold bind on cluster-admin', 10_000, () => (bob(['create', 'rolebinding', 'me-cluster-admin', '--clusterrole=cluster-admin', '--user=bob', '-n', 'team']).status === 0 ? true : undefined), 200);
    const crb = srv.kubectl(['create', 'clusterrolebinding', 'dev-admin', '--clusterrole=cluster-admin', '--user=developer'], { token: DEVELOPER_TOKEN });
    assert.match(crb.stderr, /is forbidden: User "developer" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope/);
    const rb = await raw(srv, 'GET', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings/x-view');
    const changed = await raw(srv, 'PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings/x-view', json({ ...rb.json, roleRef: { ...rb.json.roleRef, name: 'edit' } }));
    assert.equal(changed.status, 422);
    assert.match(changed.json.message, /roleRef: Invalid value: .*cannot change roleRef/);
    const dev = srv.kubectl(['auth', 'can-i', 'get', 'secrets', '-n', 'openshift-config-managed'], { token: DEVELOPER_TOKEN });
    assert.equal(dev.stdout.trim(), 'no');
  });

  it('fuzzer: 3000 seeded requests (paths, encodings, methods, headers, bodies, parameters): no 500, no restart, no Secret data to the developer', async () => {
    const pid = srv.proc.pid;
    const rand = mulberry32(0x5ec10);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    const N = 3000;
    const started = Date.now();
    const failures: string[] = [];
    let next = 0;
    const codes = new Map<number, number>();
    let unavailable = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < N) {
          const i = next++;
          const r = fuzzRequest(pick, rand);
          const what = `#${i} ${r.method} ${r.path} [${r.who}] ${JSON.stringify(r.headers)} ${r.body === undefined ? '' : String(r.body).slice(0, 120)}`;
          let res: Raw;
          try {
            res = await raw(srv, r.method, r.path, { token: r.token, body: r.body, headers: r.headers, idleMs: 150 });
          } catch {
            // A connection reset while the body is still going out happens at times to a request
            // answered early; a client sends it again. Twice in a row is a finding.
            try {
              res = await raw(srv, r.method, r.path, { token: r.token, body: r.body, headers: r.headers, idleMs: 150 });
            } catch (err) {
              failures.push(`${what}: ${(err as Error).message}`);
              continue;
            }
          }
          codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
          // A slow etcd on a loaded machine is not a finding: the honest answers to it are a 503
          // Status (the breaker, or RBAC not loaded yet), a 504, and /healthz saying etcd failed.
          if (unavailableAnswer(r.method, r.path, res)) unavailable++;
          else if (res.status >= 500) failures.push(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
          if (r.who !== 'admin' && leaks(res.text).length) failures.push(`${what}: returned planted Secret data ${leaks(res.text)}`);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`# fuzzer: ${N} requests in ${seconds.toFixed(1)} s; status codes ${JSON.stringify(Object.fromEntries([...codes].sort(([a], [b]) => a - b)))}; ${unavailable} answered that etcd or authorization was unavailable\n`);
    assert.deepEqual(failures.slice(0, 10), []);
    assert.equal(srv.proc.pid, pid);
    assert.equal(srv.proc.exitCode, null, 'the API server never exited');
    assert.equal((await raw(srv, 'GET', '/readyz', { token: null })).status, 200);
    assert.ok(codes.size > 6, `the fuzzer reached many outcomes: ${[...codes.keys()]}`);
  });
});

/** A small seeded PRNG, so that every run sends the same requests. */
/** An answer that says the store or the authorizer is unavailable now, as kube-apiserver says it. */
function unavailableAnswer(method: string, path: string, res: Raw): boolean {
  if (res.status === 504) return true;
  if (res.status === 503) return method === 'HEAD' || (/"reason":\s*"ServiceUnavailable"/.test(res.text) && /etcd is unavailable|authorization is not ready/.test(res.text));
  if (res.status === 500) return /^\/(healthz|readyz|livez)(\/|\?|$)/.test(path) && (method === 'HEAD' || /\[-\]etcd failed/.test(res.text));
  return false;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['developer', 'developer', 'developer', 'developer', 'default', 'openshift-config-managed', 'openshift-kube-apiserver', 'kube-system', '', '%2F', '..', '%2e%2e', 'Developer', '__proto__', 'a'.repeat(64)];
const RESOURCES = ['secrets', 'secrets', 'configmaps', 'configmaps', 'pods', 'events', 'namespaces', 'roles', 'rolebindings', 'nothing', 'constructor', 'secrets%2Fx'];
const CLUSTER = ['/apis/config.openshift.io/v1/apiservers', '/apis/operator.openshift.io/v1/etcds', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', '/apis/rbac.authorization.k8s.io/v1/clusterroles', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', '/api/v1/namespaces', '/api/v1/secrets', '/api/v1/configmaps'];
const NAMES = ['encryption-config', 'encryption-key-openshift-kube-apiserver-1', 'planted', 'keep', 'cluster', 'x', '', '%ZZ', '%', '%00', '%C0%AF', 'toString', '.', '..', 'a%2Fb', 'é', '%E2%80%AE', 'n'.repeat(300)];
const SUBS = ['', '', '', 'status', 'finalize', 'exec', 'x/y'];
const OTHER = ['/', '/api', '/apis', '/api/v1', '/apis/rbac.authorization.k8s.io', '/apis/rbac.authorization.k8s.io/v1', '/openapi/v2', '/openapi/v3', '/openapi/v3/api/v1', '/metrics', '/healthz/etcd', '/version', '/%', '//api/v1/namespaces', '/api/v1/namespaces/default/secrets/../../../version', '/apis/%ZZ/v1'];
const PARAMS: Array<[string, readonly string[]]> = [
  ['watch', ['1', 'True', 'yes', '0', '', 'f']],
  ['timeoutSeconds', ['1', '-1', '0', '99999999999999999999', 'abc']],
  ['limit', ['1', '-1', 'abc', '0', '500']],
  ['resourceVersion', ['0', '1', 'abc', '-5', '', '1', '1', '1', '99999999999']],
  ['resourceVersionMatch', ['Exact', 'NotOlderThan', 'x']],
  ['labelSelector', ['constructor', 'app=x', '!!', 'a in (', '__proto__=x', 'toString notin (a)']],
  ['fieldSelector', ['metadata.name=x', 'spec.x=1', '==', 'metadata.namespace!=default']],
  ['dryRun', ['All', 'x']],
  ['fieldValidation', ['Strict', 'Warn', 'nope']],
  ['pretty', ['true', 'yes']],
  ['continue', ['garbage', Buffer.from('{"v":"meta.k8s.io/v1","rv":1,"start":"../secrets/"}').toString('base64url')]],
  ['propagationPolicy', ['Orphan', 'Now']],
  ['gracePeriodSeconds', ['0', 'x']],
  ['includeObject', ['Object', 'All']],
  ['allowWatchBookmarks', ['true', 'no']],
  ['sendInitialEvents', ['true']],
  ['force', ['true']],
];
const CONTENT_TYPES = ['application/json', 'application/yaml', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/vnd.kubernetes.protobuf', 'text/plain', 'application/json; charset=utf-16', ''];
const ACCEPTS = ['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf', '*/*', 'text/html', ';;;'];

function fuzzBody(pick: <T>(a: readonly T[]) => T, rand: () => number): string | Buffer {
  const ns = pick(['developer', 'default', 'kube-system', 'openshift-config-managed']);
  const bodies: Array<() => string | Buffer> = [
    () => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: pick(['f1', 'encryption-config', 'planted']), namespace: ns }, data: { k: 'dg==' } }),
    () => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: pick(['f2', 'keep']), labels: { [pick(['app', 'bad key!', 'constructor'])]: 'v' } }, data: { a: 'b' } }),
    () => '{"metadata":{"labels":{"__proto__":{"polluted":"yes"}},"namespace":"kube-system"},"__proto__":{"x":1}}',
    () => JSON.stringify([{ op: pick(['add', 'replace', 'remove', 'move', 'copy', 'test', 'nope']), path: pick(['/metadata/namespace', '/metadata/name', '/data', '/metadata/labels/constructor', '', '/a/~2', '/metadata/uid']), value: pick(['kube-system', 1, null, {}]), from: '/data' }]),
    () => JSON.stringify({ metadata: { namespace: pick(['kube-system', 'openshift-config-managed']), name: pick(['x', 'keep']) }, data: null, $patch: pick(['replace', 'delete', 'merge']) }),
    () => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: pick(['RoleBinding', 'ClusterRoleBinding']), metadata: { name: 'fz' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: pick(['cluster-admin', 'edit', 'nope']) }, subjects: [{ kind: pick(['User', 'Group', 'ServiceAccount', 'x']), apiGroup: 'rbac.authorization.k8s.io', name: 'developer' }] }),
    () => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'fz' }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] }),
    () => JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'openshift-config-managed', verb: 'get', resource: 'secrets' } } }),
    () => JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: pick(['developer', '', 'constructor']) } }),
    () => JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', dryRun: [pick(['All', 'x'])], preconditions: { uid: 'x' }, propagationPolicy: pick(['Orphan', 'x']) }),
    () => '['.repeat(3000),
    () => '{"a":'.repeat(1500) + '1' + '}'.repeat(1500),
    () => 'a: &a [*a, *a]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n',
    () => `---\nkind: Secret\napiVersion: v1\nmetadata: {name: y, namespace: ${ns}}\n`,
    () => Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(Array.from({ length: 64 }, () => Math.floor(rand() * 256)))]),
    () => Buffer.from(Array.from({ length: 32 }, () => Math.floor(rand() * 256))),
    () => JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'big' }, stringData: { s: 'x'.repeat(100_000) } }),
    () => '',
    () => 'null',
    () => '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"dup","name":"dup2"},"data":{"a":"!!!"}}',
  ];
  return pick(bodies)();
}

function fuzzRequest(pick: <T>(a: readonly T[]) => T, rand: () => number) {
  const shape = rand();
  let path: string;
  if (shape < 0.55) {
    const ns = pick(NAMESPACES);
    const name = rand() < 0.5 ? `/${pick(NAMES)}` : '';
    const sub = name && rand() < 0.3 ? `/${pick(SUBS)}` : '';
    path = `/api/v1/namespaces/${ns}/${pick(RESOURCES)}${name}${sub}`;
  } else if (shape < 0.8) {
    path = `${pick(CLUSTER)}${rand() < 0.5 ? `/${pick(NAMES)}` : ''}${rand() < 0.2 ? `/${pick(SUBS)}` : ''}`;
  } else path = pick(OTHER);
  const method = pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
  const params: string[] = [];
  for (let n = Math.floor(rand() * 4); n > 0; n--) {
    const [k, vs] = pick(PARAMS);
    params.push(`${k}=${encodeURIComponent(pick(vs))}`);
  }
  const who = pick(['developer', 'developer', 'developer', 'developer', 'developer', 'developer', 'none', 'garbage', 'admin', 'admin']);
  // The admin's writes are dry runs: the fuzzer must not delete what the other requests probe.
  if (who === 'admin' && method !== 'GET' && method !== 'HEAD') params.push('dryRun=All');
  if (rand() < 0.05) params.push(pick(['%ZZ=1', 'a=%', '&&&', 'watch']));
  const headers: Record<string, string> = {};
  if (rand() < 0.7) headers['Content-Type'] = pick(CONTENT_TYPES);
  if (rand() < 0.5) headers.Accept = pick(ACCEPTS);
  if (rand() < 0.05) headers['User-Agent'] = pick(['curl/8', 'Mozilla/5.0 x', '\u00ff']);
  const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) && rand() < 0.9 ? fuzzBody(pick, rand) : undefined;
  const token = { developer: DEVELOPER_TOKEN, none: null, garbage: pick(['x', 'Bearer', ' ', ADMIN_TOKEN.slice(0, -1)]), admin: ADMIN_TOKEN }[who];
  return { method, path: params.length ? `${path}?${params.join('&')}` : path, headers, body, token, who };
}
