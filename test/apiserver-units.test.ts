/** The API server's pure pieces: patches, selectors, strict JSON, schemas, ages, protobuf, keys, config, tokens, authorization. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, strategicMergePatch, PatchError } from '../src/apiserver/patch.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from '../src/apiserver/selectors.js';
import { parseJsonWithDuplicates, JsonSyntaxError } from '../src/apiserver/json.js';
import { prune, obj, map, str, int, arr } from '../src/apiserver/schema.js';
import { humanDuration } from '../src/util/time.js';
import { decodeProtobufBody } from '../src/apiserver/protobuf.js';
import { objectKey, resourcePrefix, prefixRangeEnd } from '../src/storage/keys.js';
import { parseAPIServerConfig } from '../src/apiserver/config.js';
import { TokenAuthenticator, parseCsvLine } from '../src/apiserver/auth.js';
import { validateName } from '../src/apiserver/strategy.js';
import { providerOf } from '../src/storage/store.js';

describe('apiserver pure pieces', { timeout: 10_000 }, () => {
  it('merge patch (RFC 7386)', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: [1] }), { a: 1, b: { d: 3, e: 4 }, f: [1] });
    assert.deepEqual(mergePatch({ a: 1 }, [1, 2]), [1, 2]);
  });

  it('JSON patch (RFC 6902)', () => {
    const doc = { a: { b: [1, 2, 3] }, c: 'x' };
    assert.deepEqual(jsonPatch(doc, [{ op: 'add', path: '/a/b/1', value: 9 }, { op: 'remove', path: '/c' }, { op: 'replace', path: '/a/b/0', value: 0 }, { op: 'add', path: '/a/b/-', value: 4 }]), { a: { b: [0, 9, 2, 3, 4] } });
    assert.deepEqual(jsonPatch({ x: { 'a/b': 1 } }, [{ op: 'move', from: '/x/a~1b', path: '/y' }]), { x: {}, y: 1 });
    assert.deepEqual(jsonPatch({ a: 1 }, [{ op: 'copy', from: '/a', path: '/b' }, { op: 'test', path: '/b', value: 1 }]), { a: 1, b: 1 });
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), PatchError);
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/zz' }]), /doc is missing path/);
    assert.deepEqual(doc, { a: { b: [1, 2, 3] }, c: 'x' }, 'the input is not modified');
  });

  it('strategic merge patch: directives honoured and stripped', () => {
    const cur = { metadata: { labels: { a: '1', b: '2' } }, data: { x: '1', y: '2' }, list: ['a', 'b', 'c'] };
    const p = { $setElementOrder: ['x'], metadata: { labels: { $patch: 'replace', c: '3' } }, data: { $retainKeys: ['x', 'z'], z: '3' }, $deleteFromPrimitiveList: 0, '$deleteFromPrimitiveList/list': ['b'] };
    assert.deepEqual(strategicMergePatch(cur, p), { metadata: { labels: { c: '3' } }, data: { x: '1', z: '3' }, list: ['a', 'c'] });
    assert.deepEqual(strategicMergePatch({ a: { b: 1 }, c: 2 }, { a: { $patch: 'delete' } }), { c: 2 });
  });

  it('label and field selectors', () => {
    const m = parseLabelSelector('app in (a,b),!legacy,tier!=db,env');
    assert.equal(m({ app: 'a', env: 'x' }), true);
    assert.equal(m({ app: 'c', env: 'x' }), false);
    assert.equal(m({ app: 'a', env: 'x', legacy: '' }), false);
    assert.equal(m({ app: 'b', env: 'x', tier: 'db' }), false);
    assert.equal(m({ app: 'b' }), false);
    assert.equal(parseLabelSelector('')(undefined), true);
    assert.equal(parseLabelSelector('a==b')({ a: 'b' }), true);
    assert.throws(() => parseLabelSelector('a in b'), SelectorError);
    assert.throws(() => parseLabelSelector('bad key!=x'), SelectorError);
    const f = parseFieldSelector('metadata.name=x,metadata.namespace!=y', ['metadata.name', 'metadata.namespace']);
    assert.equal(f({ 'metadata.name': 'x', 'metadata.namespace': 'z' }), true);
    assert.equal(f({ 'metadata.name': 'x', 'metadata.namespace': 'y' }), false);
    assert.throws(() => parseFieldSelector('spec.foo=1', ['metadata.name']), /field label not supported: spec.foo/);
  });

  it('strict JSON: duplicates reported with paths, values as JSON.parse, __proto__ kept as data', () => {
    const r = parseJsonWithDuplicates('{"a":{"b":1,"b":2},"c":[{"d":1,"d":2}],"a":{"x":true}, "__proto__": {"polluted": 1}}');
    assert.deepEqual(r.duplicates, ['a.b', 'c[0].d', 'a']);
    assert.deepEqual(JSON.parse(JSON.stringify(r.value)), JSON.parse('{"a":{"x":true},"c":[{"d":2}],"__proto__":{"polluted":1}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    for (const bad of ['{', '{"a":}', '[1,]', '{"a":1}x', '"\\q"', '']) assert.throws(() => parseJsonWithDuplicates(bad), JsonSyntaxError);
    assert.throws(() => parseJsonWithDuplicates('['.repeat(5000)), /nesting depth/);
    assert.deepEqual(parseJsonWithDuplicates(' [1, -2.5e3, "é\\u00e9", null, false] ').value, [1, -2500, 'éé', null, false]);
  });

  it('schema pruning: unknown fields reported, canonical order, type errors', () => {
    const s = obj({ kind: str, metadata: obj({ name: str, labels: map() }), spec: obj({ n: int, l: arr(obj({ k: str })) }) });
    const report = { unknown: [] as string[], typeErrors: [] as { path: string }[] };
    const out = prune({ spec: { l: [{ k: 'v', z: 1 }], n: 2 }, metadata: { labels: { b: '2', a: '1' }, name: 'x', extra: 1 }, kind: 'K', top: true }, s, report as never);
    assert.equal(JSON.stringify(out), '{"kind":"K","metadata":{"name":"x","labels":{"a":"1","b":"2"}},"spec":{"n":2,"l":[{"k":"v"}]}}');
    assert.deepEqual(report.unknown, ['metadata.extra', 'spec.l[0].z', 'top']);
    const r2 = { unknown: [], typeErrors: [] as { path: string }[] };
    prune({ spec: { n: 'x' } }, s, r2 as never);
    assert.equal(r2.typeErrors[0]!.path, 'spec.n');
  });

  it('ages print like kubectl (duration.HumanDuration)', () => {
    const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
    assert.deepEqual([5 * s, 119 * s, 2 * m, 3 * m + 20 * s, 10 * m, 179 * m, 3 * h, 7 * h + 59 * m, 8 * h, 47 * h, 2 * d, 2 * d + 3 * h, 8 * d, 400 * d, 3 * 365 * d + 5 * d, 9 * 365 * d].map(humanDuration),
      ['5s', '119s', '2m', '3m20s', '10m', '179m', '3h', '7h59m', '8h', '47h', '2d', '2d3h', '8d', '400d', '3y5d', '9y']);
  });

  it('protobuf bodies of the kinds kubectl creates with typed clients', () => {
    // Hand-encoded k8s protobuf: Unknown{typeMeta{v1, Secret}, raw=Secret{metadata{name:"s", labels{a:b}}, data{k: "v"}, type: Opaque}}
    const ld = (no: number, b: Buffer) => Buffer.concat([Buffer.from([(no << 3) | 2, b.length]), b]);
    const s = (t: string) => Buffer.from(t);
    const meta = Buffer.concat([ld(1, s('s')), ld(2, s('')), ld(11, Buffer.concat([ld(1, s('a')), ld(2, s('b'))]))]);
    const secret = Buffer.concat([ld(1, meta), ld(2, Buffer.concat([ld(1, s('k')), ld(2, s('v'))])), ld(3, s('Opaque'))]);
    const body = Buffer.concat([s('k8s\0'), ld(1, Buffer.concat([ld(1, s('v1')), ld(2, s('Secret'))])), ld(2, secret)]);
    assert.deepEqual(decodeProtobufBody(body), { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's', labels: { a: 'b' } }, data: { k: 'dg==' }, type: 'Opaque' });
    assert.throws(() => decodeProtobufBody(Buffer.from('nope')), /envelope/);
    assert.throws(() => decodeProtobufBody(Buffer.concat([s('k8s\0'), ld(1, Buffer.concat([ld(1, s('v1')), ld(2, s('Pod'))]))])), /cannot be sent as protobuf/);
    assert.throws(() => decodeProtobufBody(Buffer.concat([s('k8s\0'), Buffer.from([0x0a, 0x7f])])), /truncated/);
  });

  it('etcd keys as kube-apiserver and the OpenShift API servers lay them out', () => {
    assert.equal(objectKey(resourcePrefix('', 'secrets'), 'ns', 'x'), '/kubernetes.io/secrets/ns/x');
    assert.equal(objectKey(resourcePrefix('', 'namespaces'), undefined, 'ns'), '/kubernetes.io/namespaces/ns');
    assert.equal(objectKey(resourcePrefix('config.openshift.io', 'apiservers'), undefined, 'cluster'), '/kubernetes.io/config.openshift.io/apiservers/cluster');
    assert.equal(objectKey(resourcePrefix('route.openshift.io', 'routes'), 'ns', 'r'), '/openshift.io/routes/ns/r');
    assert.equal(objectKey(resourcePrefix('oauth.openshift.io', 'oauthaccesstokens'), undefined, 't'), '/openshift.io/oauth/accesstokens/t');
    assert.equal(objectKey(resourcePrefix('oauth.openshift.io', 'oauthauthorizetokens'), undefined, 't'), '/openshift.io/oauth/authorizetokens/t');
    assert.equal(prefixRangeEnd(Buffer.from('/a/')).toString(), '/a0');
    assert.equal(providerOf(Buffer.from('k8s:enc:aescbc:v1:1:xxxx')), 'aescbc');
    assert.equal(providerOf(Buffer.from('{"kind":"Secret"}')), 'identity');
  });

  it('config validation gives one clear line', () => {
    const good = 'apiVersion: etcd-ops.io/v1\nkind: APIServerConfig\nport: 1\nservingCert: {certFile: /a, keyFile: /b}\netcd: {endpoints: [http://127.0.0.1:2379]}\nauthentication: {tokenFile: /t}\n';
    const c = parseAPIServerConfig(good);
    assert.equal(c.compactionIntervalMs, 5 * 60_000);
    assert.equal(c.maxRequestBodyBytes, 3145728);
    assert.equal(parseAPIServerConfig(`${good}compactionInterval: 0\n`).compactionIntervalMs, 0);
    assert.throws(() => parseAPIServerConfig(good.replace('/t', 'rel/t'), 'f.yaml'), /^UserError: f\.yaml: authentication\.tokenFile: must be an absolute path$|f\.yaml: authentication\.tokenFile: must be an absolute path/);
    assert.throws(() => parseAPIServerConfig(`${good}bogus: 1\n`), /bogus/);
    assert.throws(() => parseAPIServerConfig(good.replace('http://127.0.0.1:2379', 'localhost')), /etcd\.endpoints\[0\]: must be a URL/);
    assert.throws(() => parseAPIServerConfig(`${good}compactionInterval: soon\n`), /compactionInterval "soon" is not a duration/);
    assert.throws(() => parseAPIServerConfig(good.replace('http://', 'https://')), /etcd\.caFile is required/);
  });

  it('tokens: kube --token-auth-file format; errors never show the token', () => {
    assert.deepEqual(parseCsvLine('a,"b,c",""""'), ['a', 'b,c', '"']);
    const t = TokenAuthenticator.parse('# comment\ntok1,alice,u1,"system:masters,dev"\ntok2,bob,u2\n', 'tokens.csv');
    assert.deepEqual(t.authenticateToken('tok1'), { name: 'alice', uid: 'u1', groups: ['system:masters', 'dev'] });
    assert.deepEqual(t.authenticateToken('tok2')?.groups, []);
    assert.equal(t.authenticateToken('tok3'), undefined);
    assert.throws(() => TokenAuthenticator.parse('supersecret,alice\n', 'tokens.csv'), (e: Error) => /tokens\.csv:1: expected token,user,uid/.test(e.message) && !e.message.includes('supersecret'));
  });

  it('names', () => {
    assert.deepEqual(validateName('subdomain', 'a.b-c'), []);
    assert.equal(validateName('subdomain', 'A')[0]!.field, 'metadata.name');
    assert.equal(validateName('label', 'a.b').length, 1);
    assert.deepEqual(validateName('path', 'sha256~x'), []);
    assert.equal(validateName('path', 'a/b').length, 1);
  });
});
