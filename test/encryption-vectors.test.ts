import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseEncryptionConfiguration, StorageTransformError, AesCbcTransformer, AesGcmTransformer, SecretboxTransformer, PrefixTransformers } from '../src/encryption/index.js';

interface Vector {
  id: string;
  description?: string;
  provider: 'aescbc' | 'aesgcm' | 'secretbox';
  keyName: string;
  keyBase64: string;
  etcdKey: string;
  writeEtcdKey?: string;
  plaintextBase64: string;
  storedBase64: string;
  expect: 'ok' | 'error';
  goError?: string;
}

const file = JSON.parse(readFileSync(new URL('./fixtures/k8s-encryption-vectors.json', import.meta.url), 'utf8')) as { count: number; vectors: Vector[] };

/** The vectors' reader model: one provider entry with exactly one key, no identity fallback. */
function readerFor(v: Vector) {
  const setup = parseEncryptionConfiguration(
    JSON.stringify({
      kind: 'EncryptionConfiguration',
      apiVersion: 'apiserver.config.k8s.io/v1',
      resources: [{ resources: ['secrets'], providers: [{ [v.provider]: { keys: [{ name: v.keyName, secret: v.keyBase64 }] } }] }],
    }),
  );
  return setup.transformerFor('secrets');
}

describe('kube-apiserver encryption vectors', { timeout: 30_000 }, () => {
  it('has every vector the file announces', () => {
    assert.equal(file.vectors.length, file.count);
    assert.ok(file.vectors.some((v) => v.expect === 'ok') && file.vectors.some((v) => v.expect === 'error'), 'both ok and error vectors');
  });

  for (const v of file.vectors) {
    it(`${v.id}: ${v.description ?? ''}`, () => {
      const reader = readerFor(v);
      const stored = Buffer.from(v.storedBase64, 'base64');
      if (v.expect === 'ok') {
        const r = reader.fromStorage(stored, { key: v.etcdKey });
        assert.deepEqual(r.data, Buffer.from(v.plaintextBase64, 'base64'));
        assert.equal(r.stale, false, 'read by the write key is not stale');
        return;
      }
      assert.throws(
        () => reader.fromStorage(stored, { key: v.etcdKey }),
        (err: unknown) => {
          assert.ok(err instanceof StorageTransformError, `got ${String(err)}`);
          assert.equal(err.reason, v.goError);
          assert.equal(err.etcdKey, v.etcdKey);
          assert.ok(err.message.includes(v.etcdKey) && err.message.includes(v.goError!), 'expected: err.message.includes(v.etcdKey) && err.message.includes(v.goError!)');
          assert.ok(!err.message.includes(v.keyBase64), 'expected: !err.message.includes(v.keyBase64)');
          return true;
        },
      );
    });
  }

  it('our writes of each vector plaintext read back with the same reader, and kube-like layout', () => {
    for (const v of file.vectors.filter((x) => x.expect === 'ok')) {
      const reader = readerFor(v);
      const plain = Buffer.from(v.plaintextBase64, 'base64');
      const stored = reader.toStorage(plain, { key: v.etcdKey });
      const prefix = `k8s:enc:${v.provider}:v1:${v.keyName}:`;
      assert.equal(stored.subarray(0, prefix.length).toString(), prefix);
      // Same payload length as the recorded kube-apiserver value for the same plaintext.
      assert.equal(stored.length, Buffer.from(v.storedBase64, 'base64').length, v.id);
      assert.deepEqual(reader.fromStorage(stored, { key: v.etcdKey }).data, plain);
    }
  });

  it('the bare ciphers read the vectors too (no prefix machinery)', () => {
    for (const v of file.vectors.filter((x) => x.expect === 'ok')) {
      const key = Buffer.from(v.keyBase64, 'base64');
      const cipher = v.provider === 'aescbc' ? new AesCbcTransformer(key) : v.provider === 'aesgcm' ? new AesGcmTransformer(key) : new SecretboxTransformer(key);
      const t = new PrefixTransformers([{ prefix: Buffer.from(`k8s:enc:${v.provider}:v1:${v.keyName}:`), transformer: cipher }], 'no matching prefix found');
      assert.deepEqual(t.fromStorage(Buffer.from(v.storedBase64, 'base64'), { key: v.etcdKey }).data, Buffer.from(v.plaintextBase64, 'base64'));
    }
  });
});
