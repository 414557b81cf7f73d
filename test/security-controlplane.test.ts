/**
 * The standing security checks on a real control plane (one host, brought up by `etcd-ops up`,
 * shared by the whole file), with the identities `up` makes (src/home/credentials.ts):
 * - the authorization matrix: users × resources × verbs × namespaced / empty-namespace /
 *   all-namespaces paths, every cell a real request through the load balancer;
 * - what kubectl shows the developer;
 * - the key-leak scan after enabling and rotating encryption: logs, events, statuses, metrics and
 *   error texts searched for every key, raw, base64 and hex.
 * Encryption is enabled and rotated by the least-privileged operator, which shows its roles suffice.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fetchText } from '../src/etcd/metrics.js';
import { request as httpsRequest } from 'node:https';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { upHome, type TestHome } from './helpers/home.js';
import { kubectl } from './helpers/kube.js';
import { loadCredentials, nodeUser, OPERATOR_USER, ADMIN_USER, DEVELOPER_USER } from '../src/controlplane/credentials.js';
import { DATA_KEY, KEY_NAMESPACE } from '../src/operator/encryption/keys.js';

const ALL = 'glwcupd';

/**
 * The matrix. Verbs: g get, l list, w watch, c create, u update, p patch, d delete; a cell lists
 * the verbs the user is allowed (writes are sent as dry runs). Without a token every request is
 * 401; through an empty namespace segment every request is 404, for every user.
 * Scope: ns = /namespaces/<ns>/<resource>[/<name>], all = every namespace, cluster = cluster-scoped.
 */
const MATRIX: Array<[resource: string, scope: 'ns' | 'all' | 'cluster', target: string, developer: string, admin: string, operator: string, agent: string]> = [
  //  resource                                  scope      namespace/name                                          developer  admin  operator  agent
  ['secrets', /*                      */ 'ns', /*      */ 'openshift-config-managed/encryption-key-openshift-kube-apiserver-1', '', ALL, ALL, ''],
  ['secrets', /*                      */ 'ns', /*      */ 'openshift-kube-apiserver/encryption-config', /*            */ '', ALL, ALL, 'g'],
  ['secrets', /*                      */ 'ns', /*      */ 'developer/mine', /*                                         */ ALL, ALL, '', ''],
  ['secrets', /*                      */ 'all', /*     */ '', /*                                                       */ '', 'lw', '', ''],
  ['configmaps', /*                   */ 'ns', /*      */ 'developer/mine', /*                                         */ ALL, ALL, '', ''],
  ['configmaps', /*                   */ 'ns', /*      */ 'openshift-kube-apiserver/config', /*                        */ '', ALL, ALL, 'g'],
  ['configmaps', /*                   */ 'all', /*     */ '', /*                                                       */ '', 'lw', '', ''],
  ['pods', /*                         */ 'ns', /*      */ 'openshift-etcd/etcd-master-0', /*                           */ '', ALL, 'glw', 'gcud'],
  ['pods', /*                         */ 'all', /*     */ '', /*                                                       */ '', 'lw', '', ''],
  ['namespaces', /*                   */ 'cluster', /* */ 'developer', /*                                              */ 'g', ALL, 'glw', ''],
  ['apiservers.config.openshift.io', /**/ 'cluster', /* */ 'cluster', /*                                               */ '', ALL, 'glw', ''],
  ['etcds.operator.openshift.io', /*  */ 'cluster', /* */ 'cluster', /*                                                */ '', ALL, 'glwup', 'g'],
  ['kubeapiservers.operator.openshift.io', 'cluster', 'cluster', /*                                                     */ '', ALL, 'glwup', 'g'],
  ['clusterrolebindings.rbac.authorization.k8s.io', 'cluster', 'cluster-admin', /*                                      */ '', ALL, '', ''],
  ['rolebindings.rbac.authorization.k8s.io', 'ns', 'developer/developer-edit', /*                                       */ '', ALL, '', ''],
];
/** Resources also probed through an empty namespace segment (/namespaces//<resource>). */
const EMPTY_NAMESPACE = ['secrets', 'configmaps', 'pods', 'rolebindings.rbac.authorization.k8s.io'];

function splitResource(r: string): { group: string; resource: string } {
  const dot = r.indexOf('.');
  return dot < 0 ? { group: '', resource: r } : { group: r.slice(dot + 1), resource: r.slice(0, dot) };
}

const KINDS: Record<string, string> = {
  secrets: 'Secret',
  configmaps: 'ConfigMap',
  pods: 'Pod',
  namespaces: 'Namespace',
  apiservers: 'APIServer',
  etcds: 'Etcd',
  kubeapiservers: 'KubeAPIServer',
  clusterrolebindings: 'ClusterRoleBinding',
  rolebindings: 'RoleBinding',
};

/** The HTTP request for one verb on one row: path, method, body. */
function requestFor(resource: string, scope: 'ns' | 'all' | 'cluster' | 'empty', target: string, verb: string): { method: string; path: string; body?: string; contentType?: string } {
  const { group, resource: res } = splitResource(resource);
  const root = group ? `/apis/${group}/v1` : '/api/v1';
  const [ns, name] = scope === 'ns' ? (target.split('/') as [string, string]) : scope === 'empty' ? ['', 'x'] : ['', target];
  const base = scope === 'ns' || scope === 'empty' ? `${root}/namespaces/${ns}/${res}` : `${root}/${res}`;
  const obj = JSON.stringify({ apiVersion: group ? `${group}/v1` : 'v1', kind: KINDS[res], metadata: { name: `${name || 'x'}-new` } });
  switch (verb) {
    case 'g':
      return { method: 'GET', path: `${base}/${name}` };
    case 'l':
      return { method: 'GET', path: base };
    case 'w':
      return { method: 'GET', path: `${base}?watch=1` };
    case 'c':
      return { method: 'POST', path: `${base}?dryRun=All`, body: obj, contentType: 'application/json' };
    case 'u':
      return { method: 'PUT', path: `${base}/${name}?dryRun=All`, body: JSON.stringify({ ...JSON.parse(obj), metadata: { name } }), contentType: 'application/json' };
    case 'p':
      return { method: 'PATCH', path: `${base}/${name}?dryRun=All`, body: '{}', contentType: 'application/merge-patch+json' };
    default:
      return { method: 'DELETE', path: `${base}/${name}?dryRun=All` };
  }
}

describe('security on a control plane: authorization matrix, what kubectl shows, key-leak scan', { timeout: 300_000 }, () => {
  let t: TestHome;
  let tokens: Record<string, string | null>;
  let ca: string;
  const outputs: string[] = [];

  /** Status code only: a watch is not waited for. */
  const status = (user: string, r: { method: string; path: string; body?: string; contentType?: string }): Promise<{ code: number; text: string }> =>
    new Promise((resolve, reject) => {
      const url = new URL(t.cluster.apiServer.url);
      const token = tokens[user];
      const req = httpsRequest(
        {
          host: url.hostname,
          port: url.port,
          method: r.method,
          path: r.path,
          ca,
          servername: 'localhost',
          headers: {
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
            ...(r.body !== undefined ? { 'Content-Type': r.contentType!, 'Content-Length': String(Buffer.byteLength(r.body)) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          const done = () => {
            req.destroy();
            resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          };
          if (r.path.includes('watch=1') && res.statusCode === 200) return done();
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', done);
        },
      );
      req.setTimeout(20_000, () => req.destroy(new Error(`${r.method} ${r.path} timed out`)));
      req.on('error', reject);
      if (r.body !== undefined) req.write(r.body);
      req.end();
    });

  before(async () => {
    t = await upHome(['--hosts', '1']);
    const creds = loadCredentials(t.home);
    ca = creds.ca.certPem;
    const tok = (u: string) => creds.tokens.find((x) => x.user === u)!.token;
    tokens = { none: null, developer: tok(DEVELOPER_USER), admin: tok(ADMIN_USER), operator: tok(OPERATOR_USER), agent: tok(nodeUser('master-0')) };
    const enable = await t.cli(['encryption', 'enable', 'aescbc', '--wait'], { timeoutMs: 180_000 });
    assert.equal(enable.code, 0, enable.stderr);
    outputs.push(enable.stdout, enable.stderr);
    for (const r of ['secrets', 'configmaps']) {
      const c = kubectl(t, ['--context', 'developer', 'create', r === 'secrets' ? 'secret' : 'configmap', ...(r === 'secrets' ? ['generic'] : []), 'mine', '--from-literal=a=b']);
      assert.equal(c.code, 0, c.stderr);
    }
  });
  after(async () => t?.destroy());

  it('authorization matrix: no token, developer, admin, operator, agent × resources × verbs × namespaced, empty-namespace and all-namespaces paths', async () => {
    const users = ['none', 'developer', 'admin', 'operator', 'agent'] as const;
    const cells: Array<{ what: string; user: string; r: ReturnType<typeof requestFor>; want: 'allow' | 'deny' | 401 | 404 }> = [];
    for (const [resource, scope, target, ...allowed] of MATRIX) {
      const verbs = scope === 'all' ? 'lw' : ALL;
      for (const v of verbs) {
        users.forEach((user, i) => {
          const want = user === 'none' ? 401 : allowed[i - 1]!.includes(v) ? 'allow' : 'deny';
          cells.push({ what: `${resource} ${scope} ${target} ${v}`, user, r: requestFor(resource, scope, target, v), want });
        });
      }
    }
    for (const resource of EMPTY_NAMESPACE) {
      for (const v of ALL) for (const user of users) cells.push({ what: `${resource} empty-namespace ${v}`, user, r: requestFor(resource, 'empty', '', v), want: user === 'none' ? 401 : 404 });
    }
    const wrong: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < cells.length) {
          const c = cells[next++]!;
          const { code, text } = await status(c.user, c.r);
          const got = code === 401 || code === 404 ? code : code === 403 ? 'deny' : 'allow';
          // An allowed request may still fail on its own terms (404 of an object, 409, 422): not a 403.
          const ok = c.want === got || (c.want === 'allow' && code !== 401 && code !== 403 && !(code === 404 && c.r.path.includes('//')));
          if (!ok || code >= 500) wrong.push(`${c.user} ${c.what} (${c.r.method} ${c.r.path}): want ${c.want}, got ${code} ${text.slice(0, 160)}`);
        }
      }),
    );
    assert.deepEqual(wrong, []);
    assert.ok(cells.length > 500, `${cells.length} cells`);
  });

  it('kubectl shows the developer what it may do: can-i answers no for the keys, --list works, system namespaces cannot be deleted', () => {
    const no = kubectl(t, ['--context', 'developer', 'auth', 'can-i', 'get', 'secrets', '-n', 'openshift-config-managed']);
    assert.equal(no.stdout.trim(), 'no');
    assert.equal(no.code, 1);
    assert.equal(kubectl(t, ['--context', 'developer', 'auth', 'can-i', 'get', 'secrets']).stdout.trim(), 'yes', 'in its own namespace (the context’s)');
    const list = kubectl(t, ['--context', 'developer', 'auth', 'can-i', '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^secrets\s+\[\]\s+\[\]\s+\[get list watch create update patch delete deletecollection\]$/m);
    assert.match(kubectl(t, ['--context', 'developer', 'auth', 'can-i', '--list', '-n', 'openshift-config-managed']).stdout, /^selfsubjectaccessreviews/m);
    assert.doesNotMatch(kubectl(t, ['--context', 'developer', 'auth', 'can-i', '--list', '-n', 'openshift-config-managed']).stdout, /^secrets/m);
    const del = kubectl(t, ['--context', 'developer', 'delete', 'ns', 'openshift-etcd', '--dry-run=server']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /Forbidden|forbidden/);
    const read = kubectl(t, ['--context', 'developer', 'get', 'secret', '-n', 'openshift-kube-apiserver', 'encryption-config', '-o', 'jsonpath={.data.encryption-config}']);
    assert.notEqual(read.code, 0);
    assert.equal(read.stdout, '');
    outputs.push(no.stdout, list.stdout, del.stderr, read.stderr);
  });

  it('key-leak scan after enabling and rotating encryption: no key in logs, events, statuses, metrics or error texts (raw, base64, hex)', async () => {
    const rotate = await t.cli(['encryption', 'rotate', '--wait'], { timeoutMs: 180_000 });
    assert.equal(rotate.code, 0, rotate.stderr);
    outputs.push(rotate.stdout, rotate.stderr);
    const adminGet = async (path: string) => (await status('admin', { method: 'GET', path })).text;
    const keySecrets = JSON.parse(await adminGet(`/api/v1/namespaces/${KEY_NAMESPACE}/secrets`)).items as Array<{ metadata: { name: string }; data?: Record<string, string> }>;
    const keys = keySecrets.map((s) => Buffer.from(s.data?.[DATA_KEY] ?? '', 'base64')).filter((k) => k.length >= 16 && k.some((b) => b !== 0));
    assert.ok(keys.length >= 2, `keys before and after the rotation: ${keySecrets.map((s) => s.metadata.name)}`);
    const forms = keys.flatMap((k) => [k, Buffer.from(k.toString('base64')), Buffer.from(k.toString('base64url')), Buffer.from(k.toString('hex')), Buffer.from(k.toString('hex').toUpperCase())]);
    const hits = (what: string, data: Buffer | string): string[] => {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      return forms.filter((f) => b.includes(f)).map(() => what);
    };

    // Where the keys belong: the scan finds them there, so it would find them anywhere else.
    const resources = join(t.home, 'hosts/master-0/etc/kubernetes/static-pod-resources');
    const installed = readdirSync(resources).filter((d) => d.startsWith('kube-apiserver-pod-')).map((d) => join(resources, d, 'secrets/encryption-config/encryption-config'));
    assert.ok(installed.some((f) => hits(f, readFileSync(f)).length > 0), 'the installed encryption config holds the key (base64)');

    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (/\/(static-pod-resources|pki)$|\/var\/lib\/etcd$/.test(p)) continue;
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile() && st.size < 64 * 1024 * 1024) found.push(...hits(p, readFileSync(p)));
      }
    };
    walk(t.home);
    const lists = [
      '/api/v1/events',
      '/api/v1/configmaps',
      '/api/v1/pods',
      '/api/v1/namespaces',
      '/apis/operator.openshift.io/v1/kubeapiservers',
      '/apis/operator.openshift.io/v1/openshiftapiservers',
      '/apis/operator.openshift.io/v1/authentications',
      '/apis/operator.openshift.io/v1/etcds',
      '/apis/config.openshift.io/v1/apiservers',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      '/apis/rbac.authorization.k8s.io/v1/rolebindings',
      '/metrics',
    ];
    for (const p of lists) found.push(...hits(p, await adminGet(p)));
    for (const h of t.cluster.hosts) {
      // The member's metrics want the home's etcd-client certificate, as every etcd listener does.
      for (const url of [`${h.operatorMetricsURL}/metrics`, `${h.metricsURL}/metrics`]) found.push(...hits(url, await fetchText(url, t.conn)));
    }
    // Error texts: what a refused user, a failing command and the status commands say.
    const keyName = keySecrets[0]!.metadata.name;
    found.push(...hits('developer GET of a key', (await status('developer', { method: 'GET', path: `/api/v1/namespaces/${KEY_NAMESPACE}/secrets/${keyName}` })).text));
    found.push(...hits('developer GET across namespaces', (await status('developer', { method: 'GET', path: '/api/v1/namespaces//secrets' })).text));
    for (const args of [['encryption', 'status'], ['encryption', 'status', '-w', 'json'], ['ps'], ['encryption', 'decrypt', '--config', join(installed[0]!), '--etcd-key', '/kubernetes.io/secrets/x/y']]) {
      const r = await t.cli(args, { timeoutMs: 60_000 });
      outputs.push(r.stdout, r.stderr);
    }
    for (const o of outputs) found.push(...hits('command output', o));
    assert.deepEqual(found, []);
  });
});
