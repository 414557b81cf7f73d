/**
 * The pure parts of the security work: RBAC rule matching and the authorizer over the bootstrap
 * policy, escalation coverage, the request parsing the router and the authorizer share, label and
 * annotation validation, and user-supplied keys that name Object.prototype's properties.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RBACAuthorizer, type Binding, type PolicySource } from '../src/apiserver/rbac/authorizer.js';
import { BINDINGS, CLUSTER_ROLES } from '../src/apiserver/rbac/policy.js';
import { appliesTo, ruleAllows, uncovered, type Attributes, type PolicyRule } from '../src/apiserver/rbac/rules.js';
import { parseRequestInfo } from '../src/apiserver/requestinfo.js';
import { validateObjectMeta, validateRules } from '../src/apiserver/validation.js';
import { parseLabelSelector, parseFieldSelector } from '../src/apiserver/selectors.js';
import { jsonPatch, mergePatch, strategicMergePatch } from '../src/apiserver/patch.js';
import { ApiError } from '../src/apiserver/status.js';
import { DEVELOPER_USER, nodeUser, OPERATOR_USER, operatorGroups } from '../src/controlplane/credentials.js';

/** The bootstrap policy as a static source (what the watch-fed cache holds right after `up`). */
function bootstrapSource(extra: Binding[] = []): PolicySource {
  const bindings: Binding[] = [...BINDINGS.map((b) => ({ name: b.name, namespace: b.namespace ?? '', subjects: b.subjects, roleRef: b.roleRef })), ...extra];
  const roles = new Map(CLUSTER_ROLES.map((r) => [r.name, r.rules]));
  return {
    clusterRoleBindings: () => bindings.filter((b) => b.namespace === ''),
    roleBindings: (ns) => bindings.filter((b) => b.namespace === ns),
    clusterRoleRules: (n) => roles.get(n),
    roleRules: () => undefined,
  };
}

const users = {
  developer: { name: DEVELOPER_USER, uid: 'd', groups: ['system:authenticated'] },
  admin: { name: 'system:admin', uid: 'a', groups: ['system:masters', 'system:authenticated'] },
  operator: { name: OPERATOR_USER, uid: 'o', groups: [...operatorGroups(), 'system:authenticated'] },
  agent: { name: nodeUser('master-0'), uid: 'n', groups: ['system:nodes', 'system:authenticated'] },
};

const res = (user: Attributes['user'], verb: string, resource: string, namespace = '', extra: Partial<Attributes> = {}): Attributes => ({
  user,
  verb,
  resourceRequest: true,
  path: '',
  apiGroup: '',
  resource,
  subresource: '',
  namespace,
  name: '',
  ...extra,
});

function thrown(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected an ApiError');
}

describe('RBAC evaluation (pure)', () => {
  it('rules: verbs, groups, resources, subresources, "*/status", resourceNames, nonResourceURLs', () => {
    const u = users.developer;
    const r = (rule: PolicyRule, a: Partial<Attributes>) => ruleAllows({ ...res(u, 'get', 'secrets'), ...a }, rule);
    assert.ok(r({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, {}));
    assert.ok(!r({ verbs: ['list'], apiGroups: [''], resources: ['secrets'] }, {}));
    assert.ok(!r({ verbs: ['get'], apiGroups: ['apps'], resources: ['secrets'] }, {}));
    assert.ok(r({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, {}));
    assert.ok(!r({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, { subresource: 'status' }), 'a resource rule does not reach its subresources');
    assert.ok(r({ verbs: ['get'], apiGroups: [''], resources: ['secrets/status'] }, { subresource: 'status' }));
    assert.ok(r({ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, { subresource: 'status' }));
    assert.ok(r({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, { name: 'a' }));
    assert.ok(!r({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, { name: 'b' }));
    assert.ok(!r({ verbs: ['list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, { verb: 'list' }), 'a list has no name');
    const path = (p: string, rule: PolicyRule) => ruleAllows({ ...res(u, 'get', ''), resourceRequest: false, path: p }, rule);
    assert.ok(path('/apis/x', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }));
    assert.ok(!path('/metrics', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }));
    assert.ok(!path('/apis/x', { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }), 'resource rules never allow a URL');
  });

  it('subjects: users, groups, service accounts (a RoleBinding defaults their namespace)', () => {
    assert.ok(appliesTo(users.developer, { kind: 'User', name: 'developer' }, ''));
    assert.ok(appliesTo(users.agent, { kind: 'Group', name: 'system:nodes' }, ''));
    assert.ok(appliesTo(users.operator, { kind: 'ServiceAccount', name: 'kube-apiserver-operator', namespace: 'openshift-kube-apiserver-operator' }, ''));
    assert.ok(appliesTo(users.operator, { kind: 'ServiceAccount', name: 'kube-apiserver-operator' }, 'openshift-kube-apiserver-operator'));
    assert.ok(!appliesTo(users.operator, { kind: 'ServiceAccount', name: 'kube-apiserver-operator' }, ''));
    assert.ok(!appliesTo(users.developer, { kind: 'constructor', name: 'developer' }, ''));
  });

  it('the bootstrap policy: view cannot read secrets, edit can; the developer edits its namespace only', () => {
    const z = new RBACAuthorizer(bootstrapSource());
    const can = (a: Attributes) => z.authorize(a).allowed;
    assert.ok(can(res(users.developer, 'get', 'secrets', 'developer')));
    assert.ok(can(res(users.developer, 'create', 'configmaps', 'developer')));
    assert.ok(!can(res(users.developer, 'get', 'secrets', 'openshift-config-managed')));
    assert.ok(!can(res(users.developer, 'list', 'secrets', '')), 'all namespaces');
    assert.ok(!can(res(users.developer, 'create', 'rolebindings', 'developer', { apiGroup: 'rbac.authorization.k8s.io' })), 'edit does not grant RBAC');
    assert.ok(!can(res(users.developer, 'delete', 'namespaces', 'openshift-etcd', { name: 'openshift-etcd' })));
    assert.ok(can(res(users.developer, 'create', 'selfsubjectaccessreviews', '', { apiGroup: 'authorization.k8s.io' })));
    const viewRules = CLUSTER_ROLES.find((r) => r.name === 'view')!.rules;
    assert.ok(!viewRules.some((r) => ruleAllows(res(users.developer, 'get', 'secrets', 'x'), r)), 'view never reads secrets');
    assert.ok(CLUSTER_ROLES.find((r) => r.name === 'edit')!.rules.some((r) => ruleAllows(res(users.developer, 'get', 'secrets', 'x'), r)));
    assert.equal(
      z.authorize(res(users.developer, 'get', 'secrets', 'openshift-config-managed', { name: 'encryption-key-x-1' })).reason,
      'User "developer" cannot get resource "secrets" in API group "" in the namespace "openshift-config-managed"',
    );
    assert.ok(can(res(users.admin, 'delete', 'anything', 'anywhere', { apiGroup: 'x' })), 'system:masters');
  });

  it('the operator and the agents hold what they use and no more', () => {
    const z = new RBACAuthorizer(bootstrapSource());
    const can = (a: Attributes) => z.authorize(a).allowed;
    assert.ok(can(res(users.operator, 'create', 'secrets', 'openshift-config-managed')));
    assert.ok(can(res(users.operator, 'update', 'secrets', 'openshift-kube-apiserver', { name: 'encryption-config' })));
    assert.ok(can(res(users.operator, 'update', 'kubeapiservers', '', { apiGroup: 'operator.openshift.io', subresource: 'status', name: 'cluster' })));
    assert.ok(!can(res(users.operator, 'get', 'secrets', 'developer')), 'not the users’ secrets');
    assert.ok(!can(res(users.operator, 'list', 'secrets', '')), 'not across all namespaces');
    assert.ok(!can(res(users.operator, 'update', 'apiservers', '', { apiGroup: 'config.openshift.io', name: 'cluster' })), 'it reads the admin’s config, never writes it');
    assert.ok(can(res(users.agent, 'get', 'secrets', 'openshift-kube-apiserver', { name: 'encryption-config-3' })));
    assert.ok(!can(res(users.agent, 'list', 'secrets', 'openshift-kube-apiserver')));
    assert.ok(!can(res(users.agent, 'get', 'secrets', 'openshift-config-managed', { name: 'encryption-key-x-1' })));
    assert.ok(can(res(users.agent, 'create', 'pods', 'openshift-etcd')));
    assert.ok(can(res(users.agent, 'get', 'etcds', '', { apiGroup: 'operator.openshift.io', name: 'cluster' })));
    assert.ok(!can(res(users.agent, 'update', 'etcds', '', { apiGroup: 'operator.openshift.io', name: 'cluster' })));
  });

  it('escalation: rules are covered only by rules held', () => {
    const held: PolicyRule[] = [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps', 'pods/*'] },
      { verbs: ['*'], apiGroups: ['apps'], resources: ['*/scale'] },
    ];
    assert.deepEqual(uncovered(held, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps', 'pods/log'] }]), []);
    assert.deepEqual(uncovered(held, [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }]), []);
    assert.deepEqual(uncovered(held, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['configmaps'] }]), [{ verbs: ['delete'], apiGroups: [''], resources: ['configmaps'] }]);
    assert.equal(uncovered(held, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).length, 1);
    assert.equal(uncovered([{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]).length, 1, 'a named grant does not cover all names');
    assert.equal(uncovered(held, [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }]).length, 1);
    const clusterAdmin = CLUSTER_ROLES.find((r) => r.name === 'cluster-admin')!.rules;
    assert.deepEqual(uncovered(clusterAdmin, CLUSTER_ROLES.flatMap((r) => r.rules)), []);
  });
});

describe('request parsing shared by router and authorizer (pure)', () => {
  const p = (method: string, path: string, query = '') => parseRequestInfo(method, path, new URLSearchParams(query));
  it('resources, namespaces, names, subresources and verbs as kube’s RequestInfoFactory', () => {
    assert.deepEqual(
      (({ verb, apiGroup, apiVersion, namespace, resource, name, subresource }) => ({ verb, apiGroup, apiVersion, namespace, resource, name, subresource }))(p('GET', '/apis/operator.openshift.io/v1/etcds/cluster/status')),
      { verb: 'get', apiGroup: 'operator.openshift.io', apiVersion: 'v1', namespace: '', resource: 'etcds', name: 'cluster', subresource: 'status' },
    );
    assert.equal(p('GET', '/api/v1/namespaces/x/secrets').verb, 'list');
    for (const w of ['1', 'true', 'True', 't']) assert.equal(p('GET', '/api/v1/namespaces/x/secrets', `watch=${w}`).verb, 'watch', w);
    assert.equal(p('GET', '/api/v1/namespaces/x/secrets', 'watch=false').verb, 'list');
    assert.equal(p('DELETE', '/api/v1/namespaces/x/secrets').verb, 'deletecollection');
    assert.equal(p('DELETE', '/api/v1/namespaces/x/secrets/y').verb, 'delete');
    const ns = p('GET', '/api/v1/namespaces/foo');
    assert.equal(ns.resource, 'namespaces');
    assert.equal(ns.name, 'foo');
    assert.equal(ns.namespace, 'foo', 'a namespace is authorized in itself');
    assert.equal(p('PUT', '/api/v1/namespaces/foo/status').subresource, 'status');
    assert.equal(p('GET', '/api/v1/secrets').namespace, '', 'all namespaces');
    assert.equal(p('GET', '/api/v1').isResourceRequest, false);
    assert.equal(p('GET', '/apis/rbac.authorization.k8s.io/v1').isResourceRequest, false);
    assert.equal(p('GET', '/metrics').verb, 'get');
    assert.equal(p('GET', '/api/v1/namespaces/x/secrets/a%2Fb').name, 'a', 'an encoded slash splits as the decoded path does in kube');
  });

  it('an empty or invalid namespace segment is a 404 before anything else; a bad escape a 400', () => {
    for (const path of ['/api/v1/namespaces//secrets', '/api/v1/namespaces//secrets/x', '/api/v1/namespaces/Default/secrets', '/api/v1/namespaces/a_b/configmaps', `/api/v1/namespaces/${'a'.repeat(64)}/secrets`, '/api/v1/namespaces/x/secrets//status', '/api/v1/namespaces/%2E%2E/secrets']) {
      for (const m of ['GET', 'DELETE', 'POST']) {
        const e = thrown(() => p(m, path, 'dryRun=All'));
        assert.equal(e.code, 404, `${m} ${path}`);
      }
    }
    for (const path of ['/api/v1/namespaces/default/secrets/%ZZ', '/api/v1/namespaces/default/secrets/%', '/api/v1/namespaces/default/secrets/%E0%A4%A']) {
      const e = thrown(() => p('GET', path));
      assert.equal(e.code, 400, path);
      assert.equal(e.reason, 'BadRequest');
    }
  });
});

describe('metadata validation and user-supplied keys (pure)', () => {
  it('labels and annotations as apimachinery validates them', () => {
    assert.deepEqual(validateObjectMeta({ labels: { app: 'x', 'example.com/a-b_c.d': 'v-1', e: '' }, annotations: { 'example.com/x': 'anything at all' } }), []);
    const msgs = (meta: Record<string, unknown>) => validateObjectMeta(meta).map((e) => `${e.field} ${String(e.value)}: ${e.detail}`);
    assert.match(msgs({ labels: { 'bad key!': 'v' } })[0]!, /^metadata\.labels bad key!: name part must consist of alphanumeric characters/);
    assert.equal(msgs({ labels: JSON.parse('{"__proto__":"v"}') }).length, 1, '__proto__ is not a label key');
    assert.match(msgs({ labels: { a: 'v!' } })[0]!, /a valid label must be an empty string or consist of alphanumeric characters/);
    assert.match(msgs({ labels: { a: 'v'.repeat(64) } })[0]!, /must be no more than 63 characters/);
    assert.match(msgs({ labels: { ['k'.repeat(64)]: 'v' } })[0]!, /name part must be no more than 63 characters/);
    assert.match(msgs({ labels: { 'Bad.Prefix/k': 'v' } })[0]!, /prefix part a lowercase RFC 1123 subdomain/);
    assert.match(msgs({ labels: { 'a/b/c': 'v' } })[0]!, /with an optional DNS subdomain prefix and '\/'/);
    assert.match(msgs({ annotations: { 'not ok': 'v' } })[0]!, /metadata\.annotations not ok: name part must consist/);
    assert.deepEqual(msgs({ annotations: { a: 'x'.repeat(256 * 1024 - 1) } }), []);
    assert.match(msgs({ annotations: { a: 'x'.repeat(256 * 1024) } })[0]!, /metadata\.annotations undefined: must have at most 262144 bytes/);
    assert.equal(validateRules([{ verbs: [], apiGroups: [''], resources: ['x'] }, { verbs: ['get'], nonResourceURLs: ['/x'] }], true).length, 2);
  });

  it('__proto__, constructor and toString never find Object.prototype: selectors, patches', () => {
    const appOnly = { app: 'x' };
    for (const k of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.equal(parseLabelSelector(k)(appOnly), false, `${k} exists`);
      assert.equal(parseLabelSelector(`!${k}`)(appOnly), true, `!${k}`);
      assert.equal(parseLabelSelector(`${k} notin (a)`)(appOnly), true, `${k} notin`);
      assert.equal(parseLabelSelector(`${k}=x`)({ [k]: 'x' }), true, `an own ${k} label matches`);
    }
    assert.equal(parseLabelSelector('app')(undefined), false);
    assert.equal(parseFieldSelector('metadata.name=x', ['metadata.name'])(Object.create({ 'metadata.name': 'x' })), false);
    const proto = JSON.parse('{"metadata":{"labels":{"__proto__":{"polluted":"yes"},"constructor":"c"}}}');
    for (const patch of [mergePatch, strategicMergePatch]) {
      const out = patch({ metadata: { labels: { app: 'x' } } }, proto) as { metadata: { labels: Record<string, unknown> } };
      assert.ok(Object.hasOwn(out.metadata.labels, '__proto__'), 'an own key, kept as data');
      assert.equal(Object.getPrototypeOf(out.metadata.labels), Object.prototype, 'the prototype is untouched');
      assert.equal(out.metadata.labels.constructor, 'c');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    }
    const merged = mergePatch({ a: 1 }, { toString: { x: 1 } }) as Record<string, unknown>;
    assert.deepEqual(merged.toString, { x: 1 }, 'merging into a key named like a prototype method starts from nothing');
    assert.throws(() => jsonPatch({ a: {} }, [{ op: 'remove', path: '/a/toString' }]), /missing path/);
    assert.throws(() => jsonPatch({ a: {} }, [{ op: 'replace', path: '/constructor', value: 1 }]), /does not exist/);
  });
});
