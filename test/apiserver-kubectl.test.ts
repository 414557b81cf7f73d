/**
 * The API server as kubectl users meet it: the real kubectl 1.32 against the server started as a
 * child process (`node bin/etcd-ops.js apiserver --config`) over a real etcd.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, etcdctl, type StartedEtcd } from './helpers/etcd.js';
import { startAPIServer, type StartedAPIServer } from './helpers/apiserver.js';
import { trackPid, untrackPid } from './helpers/cleanup.js';
import { waitFor } from '../src/util/time.js';

describe('apiserver with kubectl', { timeout: 150_000 }, () => {
  let etcd: StartedEtcd;
  let srv: StartedAPIServer;
  const ok = (args: string[], input?: string) => {
    const r = srv.kubectl(args, { input });
    assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const fail = (args: string[], input?: string) => {
    const r = srv.kubectl(args, { input });
    assert.notEqual(r.status, 0, `kubectl ${args.join(' ')} should fail: ${r.stdout}`);
    return r.stderr;
  };

  before(async () => {
    etcd = await startEtcd();
    srv = await startAPIServer({ etcd });
  });
  after(async () => {
    await srv?.stop();
    await etcd?.stop();
  });

  it('api-resources lists every resource with names, short names, versions, scope and kind', () => {
    const out = ok(['api-resources']);
    const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(rows[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    const find = (n: string) => rows.find((r) => r[0] === n);
    assert.deepEqual(find('configmaps'), ['configmaps', 'cm', 'v1', 'true', 'ConfigMap']);
    assert.deepEqual(find('namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    assert.deepEqual(find('secrets'), ['secrets', 'v1', 'true', 'Secret']);
    assert.deepEqual(find('events'), ['events', 'ev', 'v1', 'true', 'Event']);
    assert.deepEqual(find('routes'), ['routes', 'route.openshift.io/v1', 'true', 'Route']);
    assert.deepEqual(find('oauthaccesstokens'), ['oauthaccesstokens', 'oauth.openshift.io/v1', 'false', 'OAuthAccessToken']);
    assert.deepEqual(find('oauthauthorizetokens'), ['oauthauthorizetokens', 'oauth.openshift.io/v1', 'false', 'OAuthAuthorizeToken']);
    assert.deepEqual(find('apiservers'), ['apiservers', 'config.openshift.io/v1', 'false', 'APIServer']);
    assert.deepEqual(find('proxies'), ['proxies', 'config.openshift.io/v1', 'false', 'Proxy']);
    for (const [n, k] of [['kubeapiservers', 'KubeAPIServer'], ['openshiftapiservers', 'OpenShiftAPIServer'], ['authentications', 'Authentication'], ['etcds', 'Etcd']]) {
      assert.deepEqual(find(n!), [n, 'operator.openshift.io/v1', 'false', k]);
    }
    assert.match(ok(['api-resources', '--api-group=operator.openshift.io', '-o', 'wide']), /etcds\s+operator\.openshift\.io\/v1\s+false\s+Etcd\s+create,delete,deletecollection,get,list,patch,update,watch\s/);
  });

  it('bootstrap namespaces and singletons exist', () => {
    const ns = ok(['get', 'ns', '-o', 'name']).trim().split('\n');
    for (const n of ['default', 'kube-system', 'openshift-config', 'openshift-config-managed', 'openshift-etcd', 'openshift-kube-apiserver', 'openshift-apiserver', 'openshift-oauth-apiserver', 'openshift-kube-apiserver-operator', 'openshift-etcd-operator']) {
      assert.ok(ns.includes(`namespace/${n}`), `missing namespace ${n}`);
    }
    assert.match(ok(['get', 'ns', 'default']), /^NAME\s+STATUS\s+AGE\ndefault\s+Active\s+\d+s\n$/);
    for (const r of ['kubeapiserver', 'openshiftapiserver', 'authentication.operator.openshift.io', 'etcd', 'apiserver', 'proxy']) {
      assert.equal(ok(['get', r, 'cluster', '-o', 'name']).trim().split('/')[1], 'cluster');
    }
  });

  it('create -f, create secret generic, create configmap; get one, list, -A, -n, -l, -o json|yaml|wide|name|jsonpath', () => {
    ok(['create', '-f', '-'], 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s1\n  labels: {app: web}\nstringData:\n  password: hunter2\n');
    assert.match(ok(['create', 'secret', 'generic', 's2', '--from-literal=k=v', '--from-literal=k2=v2']), /secret\/s2 created/);
    assert.match(ok(['create', 'configmap', 'cm1', '--from-literal=a=1', '-n', 'openshift-config']), /configmap\/cm1 created/);
    ok(['label', 'secret', 's2', 'app=db']);
    assert.equal(ok(['get', 'secret', 's1', '-o', 'jsonpath={.data.password}']), Buffer.from('hunter2').toString('base64'));
    assert.equal(ok(['get', 'secret', 's2', '-o', 'jsonpath={.data.k2}']), Buffer.from('v2').toString('base64'));
    const table = ok(['get', 'secrets']);
    assert.match(table, /^NAME\s+TYPE\s+DATA\s+AGE\n/);
    assert.match(table, /\ns1\s+Opaque\s+1\s+\d+s\n/);
    assert.match(table, /\ns2\s+Opaque\s+2\s+\d+s\n/);
    assert.match(ok(['get', 'secrets', '-o', 'wide']), /^NAME\s+TYPE\s+DATA\s+AGE\n/);
    const all = ok(['get', 'secrets', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+TYPE\s+DATA\s+AGE\n/);
    assert.match(all, /\ndefault\s+s1\s+Opaque\s+1\s+/);
    assert.match(ok(['get', 'cm', '-n', 'openshift-config']), /^NAME\s+DATA\s+AGE\ncm1\s+1\s+\d+s\n$/);
    assert.match(ok(['get', 'configmaps', '-A']), /\nopenshift-config\s+cm1\s+1\s+/);
    assert.equal(ok(['get', 'secrets', '-l', 'app=web', '-o', 'name']), 'secret/s1\n');
    assert.equal(ok(['get', 'secrets', '-l', 'app in (web,db)', '-o', 'name']), 'secret/s1\nsecret/s2\n');
    assert.equal(ok(['get', 'secrets', '-l', 'app!=web', '-o', 'name']), 'secret/s2\n');
    assert.equal(ok(['get', 'secrets', '--field-selector', 'metadata.name=s2', '-o', 'name']), 'secret/s2\n');
    const json = JSON.parse(ok(['get', 'secret', 's1', '-o', 'json']));
    assert.equal(json.kind, 'Secret');
    assert.equal(json.type, 'Opaque');
    assert.equal(json.stringData, undefined);
    assert.match(json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(json.metadata.resourceVersion, /^\d+$/);
    assert.match(ok(['get', 'secret', 's1', '-o', 'yaml']), /^apiVersion: v1\ndata:\n  password: aHVudGVyMg==\nkind: Secret\n/);
    const list = JSON.parse(ok(['get', 'secrets', '-o', 'json']));
    assert.equal(list.items.length, 2);
    assert.match(fail(['get', 'secret', 'nope']), /Error from server \(NotFound\): secrets "nope" not found/);
    assert.match(fail(['get', 'secrets', '-n', 'no-such-ns', 's1']), /NotFound/);
  });

  it('the seed commands work verbatim (oc -> kubectl)', () => {
    // Give the operators an Encrypted condition through the status subresource, as the controllers do.
    for (const r of ['kubeapiservers', 'authentications']) {
      ok([
        'patch', `${r}.operator.openshift.io`, 'cluster', '--subresource=status', '--type=merge', '-p',
        JSON.stringify({ status: { conditions: [{ type: 'Encrypted', status: 'True', reason: 'EncryptionCompleted', message: 'All resources encrypted: secrets, configmaps', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }),
      ]);
    }
    const jp = `-o=jsonpath={range .items[0].status.conditions[?(@.type=="Encrypted")]}{.reason}{"\\n"}{.message}{"\\n"}`;
    // (The template has no {end}: kubectl prints a trailing blank line or two, as it does against kube-apiserver.)
    assert.match(ok(['get', 'kubeapiserver', jp]), /^EncryptionCompleted\nAll resources encrypted: secrets, configmaps\n\s*$/);
    assert.match(ok(['get', 'authentication.operator.openshift.io', jp]), /^EncryptionCompleted\nAll resources encrypted: secrets, configmaps\n\s*$/);
    const before = JSON.parse(ok(['get', 'etcd', 'cluster', '-o', 'json']));
    const reason = `recovery-${new Date().toISOString()}`;
    assert.match(ok(['patch', 'etcd', 'cluster', `-p={"spec": {"forceRedeploymentReason": "${reason}"}}`, '--type=merge']), /etcd.operator.openshift.io\/cluster patched/);
    const after = JSON.parse(ok(['get', 'etcd', 'cluster', '-o', 'json']));
    assert.equal(after.spec.forceRedeploymentReason, reason);
    assert.equal(after.metadata.generation, before.metadata.generation + 1, 'a spec change bumps generation');
    const proxy = ok(['get', 'proxy', 'cluster', '-o', 'yaml']);
    assert.match(proxy, /^apiVersion: config.openshift.io\/v1\nkind: Proxy\nmetadata:\n/);
    assert.match(proxy, /\n  name: cluster\n/);
  });

  it('apply twice (create, then update), replace, and patch merge / json / strategic', () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: "${v}"\n`;
    assert.match(ok(['apply', '-f', '-'], cm('1')), /configmap\/applied created/);
    assert.match(ok(['apply', '-f', '-'], cm('2')), /configmap\/applied configured/);
    assert.equal(ok(['get', 'cm', 'applied', '-o', 'jsonpath={.data.a}']), '2');
    assert.match(ok(['apply', '-f', '-'], cm('2')), /configmap\/applied unchanged/);
    const route = (host: string) => `apiVersion: route.openshift.io/v1\nkind: Route\nmetadata:\n  name: r1\nspec:\n  host: ${host}\n  to: {kind: Service, name: svc}\n`;
    assert.match(ok(['apply', '-f', '-'], route('a.example.com')), /route.route.openshift.io\/r1 created/);
    assert.match(ok(['apply', '-f', '-'], route('b.example.com')), /configured/);
    assert.match(ok(['get', 'routes']), /^NAME\s+HOST\/PORT\s+PATH\s+SERVICES\s+PORT\s+TERMINATION\s+WILDCARD\nr1\s+b\.example\.com\s+svc\s+<all>\s+None\n$/);

    const y = ok(['get', 'cm', 'applied', '-o', 'yaml']).replace('a: "2"', 'a: "3"');
    assert.match(ok(['replace', '-f', '-'], y), /configmap\/applied replaced/);
    // The same manifest again carries an old resourceVersion now: a conflict.
    assert.match(fail(['replace', '-f', '-'], y), /Error from server \(Conflict\).*Operation cannot be fulfilled on configmaps "applied": the object has been modified; please apply your changes to the latest version and try again/s);
    ok(['patch', 'cm', 'applied', '--type=merge', '-p', '{"data":{"m":"merge"}}']);
    ok(['patch', 'cm', 'applied', '--type=json', '-p', '[{"op":"add","path":"/data/j","value":"json"},{"op":"remove","path":"/data/a"}]']);
    ok(['patch', 'cm', 'applied', '-p', '{"data":{"s":"strategic"}}']);
    const data = JSON.parse(ok(['get', 'cm', 'applied', '-o', 'jsonpath={.data}']));
    assert.deepEqual(data, { j: 'json', m: 'merge', s: 'strategic' });
    assert.match(fail(['patch', 'cm', 'applied', '--type=json', '-p', '[{"op":"remove","path":"/data/nope"}]']), /The request is invalid: .*remove operation does not apply: doc is missing path: "\/data\/nope"/);
  });

  it('edit with EDITOR set to a script', () => {
    ok(['create', 'configmap', 'edited', '--from-literal=k=before']);
    const editor = join(srv.dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/k: before/k: after/" "$1"\n');
    chmodSync(editor, 0o755);
    const r = srv.kubectl(['edit', 'cm', 'edited'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /configmap\/edited edited/);
    assert.equal(ok(['get', 'cm', 'edited', '-o', 'jsonpath={.data.k}']), 'after');
    // An edit of an OpenShift kind (unknown to kubectl: JSON merge patch).
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/managementState: Managed/managementState: Unmanaged/" "$1"\n');
    const r2 = srv.kubectl(['edit', 'kubeapiserver', 'cluster'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(ok(['get', 'kubeapiserver', 'cluster', '-o', 'jsonpath={.spec.managementState}']), 'Unmanaged');
  });

  it('etcdctl shows JSON values at the documented keys', () => {
    ok(['create', '-f', '-'], 'apiVersion: oauth.openshift.io/v1\nkind: OAuthAccessToken\nmetadata:\n  name: sha256~tokentokentokentokentokentokentoken\nuserName: alice\nclientName: console\n');
    const get = (k: string) => etcdctl(etcd, ['get', k, '--print-value-only']).trim();
    const secret = JSON.parse(get('/kubernetes.io/secrets/default/s1'));
    assert.equal(secret.kind, 'Secret');
    assert.equal(secret.metadata.resourceVersion, undefined, 'resourceVersion is not stored in the value');
    assert.equal(JSON.parse(get('/kubernetes.io/configmaps/openshift-config/cm1')).data.a, '1');
    assert.equal(JSON.parse(get('/kubernetes.io/namespaces/openshift-etcd')).kind, 'Namespace');
    assert.equal(JSON.parse(get('/openshift.io/routes/default/r1')).spec.host, 'b.example.com');
    assert.equal(JSON.parse(get('/openshift.io/oauth/accesstokens/sha256~tokentokentokentokentokentokentoken')).userName, 'alice');
    assert.equal(JSON.parse(get('/kubernetes.io/config.openshift.io/apiservers/cluster')).kind, 'APIServer');
    assert.equal(JSON.parse(get('/kubernetes.io/operator.openshift.io/etcds/cluster')).kind, 'Etcd');
    const rv = JSON.parse(ok(['get', 'secret', 's1', '-o', 'json'])).metadata.resourceVersion;
    const kv = JSON.parse(etcdctl(etcd, ['get', '/kubernetes.io/secrets/default/s1', '-w', 'json']));
    assert.equal(String(kv.kvs[0].mod_revision), rv, 'resourceVersion is the mod revision');
  });

  it('get -w receives events; delete', async () => {
    ok(['create', 'configmap', 'watched', '--from-literal=a=1']);
    const child = spawn('kubectl', ['--kubeconfig', srv.kubeconfig, 'get', 'cm', '-w', '--request-timeout=40s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackPid(child.pid!);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await waitFor('the initial list', 20_000, () => (/watched/.test(out) ? true : undefined), 50);
      // The list has printed; give the watch request a moment to be established, then change things.
      await new Promise((r) => setTimeout(r, 700));
      ok(['create', 'configmap', 'watched2', '--from-literal=a=1']);
      ok(['patch', 'cm', 'watched', '-p', '{"data":{"b":"2"}}']);
      await waitFor('watch events', 20_000, () => (/\nwatched2\s+1\s+/.test(out) && /\nwatched\s+2\s+/.test(out) ? true : undefined), 50);
    } finally {
      child.kill('SIGKILL');
      untrackPid(child.pid!);
    }
    assert.match(ok(['delete', 'cm', 'watched', 'watched2']), /configmap "watched" deleted\nconfigmap "watched2" deleted/);
    assert.match(fail(['get', 'cm', 'watched']), /NotFound/);
    assert.match(ok(['delete', 'secret', '-l', 'app=db']), /secret "s2" deleted/);
  });

  it('namespaces: create, content must have a namespace, delete removes content', () => {
    ok(['create', 'namespace', 'scratch']);
    ok(['create', 'configmap', 'x', '-n', 'scratch', '--from-literal=a=b']);
    assert.match(fail(['create', 'configmap', 'y', '-n', 'absent', '--from-literal=a=b']), /namespaces "absent" not found/);
    assert.match(ok(['delete', 'namespace', 'scratch']), /namespace "scratch" deleted/);
    assert.equal(etcdctl(etcd, ['get', '/kubernetes.io/configmaps/scratch/', '--prefix', '--keys-only']).trim(), '');
    assert.match(fail(['delete', 'namespace', 'default']), /Forbidden/);
  });
});
