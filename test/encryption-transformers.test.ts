import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  buildEncryption,
  parseEncryptionConfiguration,
  classifyStoredValue,
  matchingEntry,
  resourceForEtcdKey,
  StorageTransformError,
  AesCbcTransformer,
  identity,
  type ProviderConfig,
} from '../src/encryption/index.js';

const KEY = '/kubernetes.io/secrets/ns/name';
const ctx = { key: KEY };
// A secret whose every spelling must stay out of all messages.
const LEAKY_RAW = 'KEYMATERIAL-DO-NOT-LEAK-32bytes!';
const LEAKY = Buffer.from(LEAKY_RAW).toString('base64');
const b64 = (n: number) => randomBytes(n).toString('base64');

function setup(providers: ProviderConfig[], resources = ['secrets']) {
  return buildEncryption({ resources: [{ resources, providers }] });
}
const keyed = (type: 'aescbc' | 'aesgcm' | 'secretbox', ...keys: Array<[string, string]>): ProviderConfig => ({
  type,
  keys: keys.map(([name, secret]) => ({ name, secret })),
});

function assertNoKeyMaterial(message: string) {
  for (const s of [LEAKY, LEAKY_RAW, Buffer.from(LEAKY_RAW).toString('hex')]) assert.ok(!message.includes(s), `message leaks key material: ${message}`);
}

function readError(fn: () => unknown): StorageTransformError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StorageTransformError, `expected StorageTransformError, got ${String(err)}`);
    assertNoKeyMaterial(err.message);
    return err;
  }
  assert.fail('expected the read to fail');
}

describe('encryption transformers', { timeout: 30_000 }, () => {
  const samples = [Buffer.alloc(0), Buffer.from('x'), randomBytes(15), randomBytes(16), randomBytes(17), randomBytes(4096), Buffer.from('{"kind":"Secret"}')];

  for (const [type, sizes] of [['aescbc', [16, 24, 32]], ['aesgcm', [16, 24, 32]], ['secretbox', [32]]] as const) {
    for (const size of sizes) {
      it(`${type} with a ${size}-byte key round-trips every size`, () => {
        const t = setup([keyed(type, ['k1', b64(size)])]).transformerFor('secrets');
        for (const plain of samples) {
          const stored = t.toStorage(plain, ctx);
          assert.equal(stored.toString('latin1', 0, `k8s:enc:${type}:v1:k1:`.length), `k8s:enc:${type}:v1:k1:`);
          assert.equal(stored.includes(Buffer.from('{"kind":"Secret"}')), false);
          const r = t.fromStorage(stored, ctx);
          assert.deepEqual(r.data, plain);
          assert.equal(r.stale, false);
          // Random IVs/nonces: the same plaintext never gives the same bytes twice.
          assert.notDeepEqual(t.toStorage(plain, ctx), stored);
        }
      });
    }
  }

  it('aescbc pads an aligned plaintext with one whole block', () => {
    const t = setup([keyed('aescbc', ['k', b64(32)])]).transformerFor('secrets');
    const prefix = 'k8s:enc:aescbc:v1:k:'.length;
    assert.equal(t.toStorage(Buffer.alloc(16), ctx).length, prefix + 16 + 32);
    assert.equal(t.toStorage(Buffer.alloc(15), ctx).length, prefix + 16 + 16);
    assert.equal(t.toStorage(Buffer.alloc(0), ctx).length, prefix + 16 + 16);
  });

  it('aescbc: a payload that is exactly one IV is an error, not a crash', () => {
    const t = setup([keyed('aescbc', ['k', b64(32)])]).transformerFor('secrets');
    const stored = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:k:'), randomBytes(16)]);
    assert.equal(readError(() => t.fromStorage(stored, ctx)).reason, 'invalid PKCS7 data (empty or not padded)');
    // And the bare cipher too.
    assert.throws(() => new AesCbcTransformer(randomBytes(32)).fromStorage(randomBytes(16), ctx), /invalid PKCS7 data/);
  });

  it('aesgcm authenticates the etcd key', () => {
    const t = setup([keyed('aesgcm', ['k', b64(32)])]).transformerFor('secrets');
    const stored = t.toStorage(Buffer.from('hello'), ctx);
    const err = readError(() => t.fromStorage(stored, { key: '/kubernetes.io/secrets/ns/other' }));
    assert.equal(err.reason, 'cipher: message authentication failed');
    assert.equal(err.etcdKey, '/kubernetes.io/secrets/ns/other');
    // A sealed part shorter than the tag: Go's AEAD reports an authentication failure.
    const short = Buffer.concat([Buffer.from('k8s:enc:aesgcm:v1:k:'), randomBytes(20)]);
    assert.equal(readError(() => t.fromStorage(short, ctx)).reason, 'cipher: message authentication failed');
  });

  it('the first key of the first provider writes; later keys and providers read as stale', () => {
    const [a, b, c] = [b64(32), b64(32), b64(32)];
    const old = setup([keyed('aescbc', ['old', a])]).transformerFor('secrets');
    const sbOld = setup([keyed('secretbox', ['sb', c])]).transformerFor('secrets');
    const current = setup([keyed('aescbc', ['new', b], ['old', a]), keyed('secretbox', ['sb', c]), { type: 'identity' }]).transformerFor('secrets');

    const fresh = current.toStorage(Buffer.from('v'), ctx);
    assert.equal(fresh.toString('latin1', 0, 22), 'k8s:enc:aescbc:v1:new:');
    assert.deepEqual(current.fromStorage(fresh, ctx), { data: Buffer.from('v'), stale: false });

    const bySecondKey = current.fromStorage(old.toStorage(Buffer.from('v'), ctx), ctx);
    assert.deepEqual(bySecondKey, { data: Buffer.from('v'), stale: true });
    const bySecondProvider = current.fromStorage(sbOld.toStorage(Buffer.from('v'), ctx), ctx);
    assert.deepEqual(bySecondProvider, { data: Buffer.from('v'), stale: true });
    const byIdentity = current.fromStorage(Buffer.from('{"plain":true}'), ctx);
    assert.deepEqual(byIdentity, { data: Buffer.from('{"plain":true}'), stale: true });
  });

  it('identity first writes plaintext; encrypted data it can still read is stale', () => {
    const key = b64(32);
    const enc = setup([keyed('aesgcm', ['k', key])]).transformerFor('secrets');
    const t = setup([{ type: 'identity' }, keyed('aesgcm', ['k', key])]).transformerFor('secrets');
    assert.deepEqual(t.toStorage(Buffer.from('{"a":1}'), ctx), Buffer.from('{"a":1}'));
    assert.deepEqual(t.fromStorage(Buffer.from('{"a":1}'), ctx), { data: Buffer.from('{"a":1}'), stale: false });
    assert.deepEqual(t.fromStorage(enc.toStorage(Buffer.from('x'), ctx), ctx), { data: Buffer.from('x'), stale: true });
  });

  it('identity refuses to read encrypted data', () => {
    assert.throws(() => identity.fromStorage(Buffer.from('k8s:enc:aescbc:v1:k:xxxx'), ctx), { message: 'identity transformer tried to read encrypted data' });
    // Unlisted resources get that identity.
    const s = setup([keyed('aescbc', ['k', b64(32)])]);
    const stored = s.transformerFor('secrets').toStorage(Buffer.from('x'), ctx);
    const err = readError(() => s.transformerFor('configmaps').fromStorage(stored, { key: '/kubernetes.io/configmaps/ns/x' }));
    assert.equal(err.reason, 'identity transformer tried to read encrypted data');
    assert.deepEqual(s.transformerFor('configmaps').toStorage(Buffer.from('{}'), ctx), Buffer.from('{}'));
  });

  it('an identity fallback stays silent about encrypted data it cannot read', () => {
    const s = setup([keyed('aescbc', ['k', b64(32)]), { type: 'identity' }]).transformerFor('secrets');
    const other = setup([keyed('aesgcm', ['k', b64(32)])]).transformerFor('secrets').toStorage(Buffer.from('x'), ctx);
    assert.equal(readError(() => s.fromStorage(other, ctx)).reason, 'no matching prefix found');
  });

  it('wrong keys: unknown key name, same name with another secret', () => {
    const mine = setup([keyed('aescbc', ['k1', LEAKY])]).transformerFor('secrets');
    const theirs = setup([keyed('aescbc', ['k2', b64(32)])]).transformerFor('secrets');
    const sameName = setup([keyed('aescbc', ['k1', b64(32)])]).transformerFor('secrets');
    const stored = theirs.toStorage(Buffer.from('payload'), ctx);
    assert.equal(readError(() => mine.fromStorage(stored, ctx)).reason, 'no matching key was found for the provided AES transformer');
    // The same key name with a different secret: garbage padding (or, rarely, wrong bytes that pass).
    for (let i = 0; i < 20; i++) {
      const s2 = sameName.toStorage(Buffer.from('payload'), ctx);
      try {
        assert.notDeepEqual(mine.fromStorage(s2, ctx).data, Buffer.from('payload'));
      } catch (err) {
        assert.ok(err instanceof StorageTransformError, 'expected: err instanceof StorageTransformError');
        assert.match(err.reason, /^(invalid PKCS7 data \(empty or not padded\)|invalid padding on input)$/);
        assertNoKeyMaterial(err.message);
      }
    }
    const sb = setup([keyed('secretbox', ['k1', LEAKY])]).transformerFor('secrets');
    const sbOther = setup([keyed('secretbox', ['k1', b64(32)])]).transformerFor('secrets');
    assert.equal(readError(() => sb.fromStorage(sbOther.toStorage(Buffer.from('x'), ctx), ctx)).reason, 'output array was not large enough for encryption');
    assert.equal(readError(() => sb.fromStorage(Buffer.from('k8s:enc:secretbox:v1:k9:abc'), ctx)).reason, 'no matching key was found for the provided Secretbox transformer');
    const gcm = setup([keyed('aesgcm', ['k1', LEAKY])]).transformerFor('secrets');
    const gcmOther = setup([keyed('aesgcm', ['k1', b64(32)])]).transformerFor('secrets');
    assert.equal(readError(() => gcm.fromStorage(gcmOther.toStorage(Buffer.from('x'), ctx), ctx)).reason, 'cipher: message authentication failed');
  });

  it('failures of several matching prefixes are reported together, de-duplicated, as Go aggregates them', () => {
    const k = b64(32);
    const twoAes = setup([keyed('aescbc', ['a', k]), keyed('aescbc', ['b', k])]).transformerFor('secrets');
    assert.equal(readError(() => twoAes.fromStorage(Buffer.from('k8s:enc:aescbc:v1:c:0123456789abcdef'), ctx)).reason, 'no matching key was found for the provided AES transformer');
    const stored = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:a:'), randomBytes(17)]);
    assert.equal(
      readError(() => twoAes.fromStorage(stored, ctx)).reason,
      '[the stored data is not a multiple of the block size, no matching key was found for the provided AES transformer]',
    );
    // A later entry that can read it wins, and the read is stale.
    const good = setup([keyed('aescbc', ['a', k])]).transformerFor('secrets').toStorage(Buffer.from('ok'), ctx);
    const broken = setup([keyed('aescbc', ['a', b64(32)]), keyed('aescbc', ['a', k])]).transformerFor('secrets');
    for (let i = 0; i < 5; i++) {
      try {
        const r = broken.fromStorage(good, ctx);
        assert.deepEqual(r.data, Buffer.from('ok'));
        assert.equal(r.stale, true);
      } catch (err) {
        assert.fail(`should have fallen through to the second provider: ${String(err)}`);
      }
    }
  });

  it('KMS entries keep their place but are not supported', () => {
    const s = setup([{ type: 'kms', name: 'vault', apiVersion: 'v2', endpoint: 'unix:///kms.sock' }, keyed('aescbc', ['k', b64(32)])]);
    const t = s.transformerFor('secrets');
    assert.equal(readError(() => t.fromStorage(Buffer.from('k8s:enc:kms:v2:vault:xyz'), ctx)).reason, 'KMS provider "vault" is not supported by etcd-ops');
    assert.throws(() => t.toStorage(Buffer.from('x'), ctx), (e: unknown) => e instanceof StorageTransformError && e.direction === 'write');
    assert.deepEqual(s.resolve('secrets').entries.map((e) => e.prefix), ['k8s:enc:kms:v2:vault:', 'k8s:enc:aescbc:v1:k:']);
  });

  it('classifies stored values without decrypting', () => {
    const t = setup([keyed('aescbc', ['7', b64(32)])]).transformerFor('secrets');
    assert.deepEqual(classifyStoredValue(t.toStorage(Buffer.from('x'), ctx)), {
      kind: 'encrypted',
      provider: 'aescbc',
      version: 'v1',
      keyName: '7',
      prefix: 'k8s:enc:aescbc:v1:7:',
    });
    assert.deepEqual(classifyStoredValue(Buffer.from('k8s:enc:kms:v2:vault:....')), { kind: 'encrypted', provider: 'kms', version: 'v2', keyName: 'vault', prefix: 'k8s:enc:kms:v2:vault:' });
    assert.deepEqual(classifyStoredValue(Buffer.from('k8s:enc:aescbc')), { kind: 'encrypted', provider: '', version: '', keyName: undefined, prefix: 'k8s:enc:' });
    assert.deepEqual(classifyStoredValue(Buffer.from('{"kind":"ConfigMap"}')), { kind: 'plaintext', format: 'json' });
    assert.deepEqual(classifyStoredValue(Buffer.from('k8s\x00\n\x0f\n\x02v1', 'latin1')), { kind: 'plaintext', format: 'protobuf' });
    assert.deepEqual(classifyStoredValue(Buffer.from('hello')), { kind: 'unknown' });
    assert.deepEqual(classifyStoredValue(Buffer.alloc(0)), { kind: 'unknown' });
  });

  it('tells which configured entry a stored value belongs to', () => {
    const s = setup([keyed('aescbc', ['2', b64(32)], ['1', b64(32)]), { type: 'identity' }]);
    const entries = s.resolve('secrets').entries;
    assert.deepEqual(entries.map((e) => [e.provider, e.keyName]), [['aescbc', '2'], ['aescbc', '1'], ['identity', undefined]]);
    assert.equal(matchingEntry(s.transformerFor('secrets').toStorage(Buffer.from('x'), ctx), entries), 0);
    assert.equal(matchingEntry(Buffer.from('k8s:enc:aescbc:v1:1:zzzz'), entries), 1);
    assert.equal(matchingEntry(Buffer.from('{"a":1}'), entries), 2);
    assert.equal(matchingEntry(Buffer.from('k8s:enc:secretbox:v1:1:zz'), entries), -1);
  });

  it('maps etcd keys to group-resources', () => {
    const cases: Array<[string, string | undefined]> = [
      ['/kubernetes.io/secrets/ns/name', 'secrets'],
      ['/registry/secrets/default/db-creds', 'secrets'],
      ['/kubernetes.io/configmaps/ns/name', 'configmaps'],
      ['/openshift.io/routes/ns/name', 'routes.route.openshift.io'],
      ['/openshift.io/oauth/accesstokens/sha256~abc', 'oauthaccesstokens.oauth.openshift.io'],
      ['/openshift.io/oauth/authorizetokens/sha256~abc', 'oauthauthorizetokens.oauth.openshift.io'],
      ['/kubernetes.io/example.com/widgets/ns/w1', 'widgets.example.com'],
      ['/kubernetes.io/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['/kubernetes.io/deployments/ns/web', 'deployments.apps'],
      ['/registry/minions/node-1', 'nodes'],
      ['/registry/services/specs/default/kubernetes', 'services'],
      ['/registry/services/endpoints/default/kubernetes', 'endpoints'],
      ['/registry/namespaces/default', 'namespaces'],
      ['/openshift.io/builds/ns/b', undefined],
      ['/somewhere/else', undefined],
      ['/kubernetes.io/', undefined],
    ];
    for (const [key, want] of cases) assert.equal(resourceForEtcdKey(key), want, key);
  });

  it('resolves wildcards as kube-apiserver 1.27+ does', () => {
    const s = parseEncryptionConfiguration(`
kind: EncryptionConfiguration
apiVersion: apiserver.config.k8s.io/v1
resources:
  - resources: [events]
    providers: [{identity: {}}]
  - resources: [secrets, routes.route.openshift.io]
    providers: [{secretbox: {keys: [{name: sb, secret: ${b64(32)}}]}}]
  - resources: ['*.apps']
    providers: [{aesgcm: {keys: [{name: g, secret: ${b64(16)}}]}}]
  - resources: ['*.']
    providers: [{aescbc: {keys: [{name: core, secret: ${b64(32)}}]}}]
  - resources: ['*.*']
    providers: [{aescbc: {keys: [{name: all, secret: ${b64(32)}}]}}]
`);
    const first = (gr: string) => s.resolve(gr).entries[0]!;
    assert.deepEqual([s.resolve('events').matchedBy, first('events').provider], ['events', 'identity']);
    assert.deepEqual([s.resolve('secrets').matchedBy, first('secrets').keyName], ['secrets', 'sb']);
    assert.deepEqual([s.resolve('routes.route.openshift.io').matchedBy, first('routes.route.openshift.io').keyName], ['routes.route.openshift.io', 'sb']);
    assert.deepEqual([s.resolve('deployments.apps').matchedBy, first('deployments.apps').keyName], ['*.apps', 'g']);
    assert.deepEqual([s.resolve('configmaps').matchedBy, first('configmaps').keyName], ['*.', 'core']);
    assert.deepEqual([s.resolve('widgets.example.com').matchedBy, first('widgets.example.com').keyName], ['*.*', 'all']);
    const stored = s.transformerFor('deployments.apps').toStorage(Buffer.from('d'), ctx);
    assert.equal(stored.toString('latin1', 0, 20), 'k8s:enc:aesgcm:v1:g:');
    assert.equal(s.transformerFor('configmaps').toStorage(Buffer.from('c'), ctx).toString('latin1', 0, 23), 'k8s:enc:aescbc:v1:core:');
    assert.equal(s.transformerFor('widgets.example.com').toStorage(Buffer.from('c'), ctx).toString('latin1', 0, 22), 'k8s:enc:aescbc:v1:all:');
    // Without wildcards, unlisted resources are identity.
    const plain = setup([keyed('aescbc', ['k', b64(32)])]);
    assert.deepEqual(plain.resolve('configmaps'), { matchedBy: null, entries: [{ provider: 'identity', prefix: '' }] });
  });

  it('a resource named in several entries gets their providers one after the other', () => {
    const [a, b] = [b64(32), b64(32)];
    const s = buildEncryption({
      resources: [
        { resources: ['secrets'], providers: [keyed('aescbc', ['a', a])] },
        { resources: ['secrets', 'configmaps'], providers: [keyed('aesgcm', ['b', b])] },
      ],
    });
    assert.deepEqual(s.resolve('secrets').entries.map((e) => e.prefix), ['k8s:enc:aescbc:v1:a:', 'k8s:enc:aesgcm:v1:b:']);
    const fromB = s.transformerFor('configmaps').toStorage(Buffer.from('x'), ctx);
    assert.deepEqual(s.transformerFor('secrets').fromStorage(fromB, ctx), { data: Buffer.from('x'), stale: true });
  });
});
