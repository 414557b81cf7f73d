import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeEncryptionConfiguration,
  parseEncryptionConfiguration,
  formatEncryptionConfiguration,
  loadEncryptionConfiguration,
  ConfigError,
} from '../src/encryption/index.js';
import { UserError } from '../src/util/errors.js';
import { tempDir } from './helpers/cleanup.js';

const LEAKY_RAW = 'KEYMATERIAL-DO-NOT-LEAK-32bytes!';
const LEAKY = Buffer.from(LEAKY_RAW).toString('base64'); // 32 bytes
const K16 = Buffer.from('0123456789abcdef').toString('base64');
const K24 = Buffer.from('0123456789abcdef01234567').toString('base64');
const HEAD = 'kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\n';

/** One resource entry with the given providers (YAML flow style). */
const withProviders = (providers: string, resources = '[secrets]') => `${HEAD}resources:\n  - resources: ${resources}\n    providers: ${providers}\n`;

function configError(text: string): ConfigError {
  try {
    decodeEncryptionConfiguration(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err instanceof UserError, 'ConfigError is a UserError');
    assert.equal(err.message.includes('\n'), false, 'one line');
    for (const s of [LEAKY, LEAKY_RAW]) assert.equal(err.message.includes(s), false, `message leaks the secret: ${err.message}`);
    return err;
  }
  assert.fail('expected the configuration to be refused');
}

describe('EncryptionConfiguration', { timeout: 30_000 }, () => {
  const dir = tempDir('etcd-ops-enc-config-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a full configuration in YAML and the same in JSON', () => {
    const yaml = `${HEAD}resources:
  - resources: [secrets, configmaps]
    providers:
      - aescbc:
          keys:
            - name: "2"
              secret: ${LEAKY}
            - name: "1"
              secret: ${K16}
      - aesgcm:
          keys: [{name: g, secret: ${K24}}]
      - secretbox:
          keys: [{name: sb, secret: ${LEAKY}}]
      - kms: {apiVersion: v2, name: vault, endpoint: unix:///run/kms.sock}
      - identity: {}
`;
    const c = decodeEncryptionConfiguration(yaml);
    assert.deepEqual(c.resources[0]!.resources, ['secrets', 'configmaps']);
    assert.deepEqual(c.resources[0]!.providers.map((p) => p.type), ['aescbc', 'aesgcm', 'secretbox', 'kms', 'identity']);
    const json = JSON.stringify({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources: c.resources.map((r) => ({
      resources: r.resources,
      providers: r.providers.map((p) => (p.type === 'identity' ? { identity: {} } : p.type === 'kms' ? { kms: { apiVersion: p.apiVersion, name: p.name, endpoint: p.endpoint } } : { [p.type]: { keys: p.keys } })),
    })) });
    assert.deepEqual(decodeEncryptionConfiguration(json), c);
    // And what we write reads back the same.
    assert.deepEqual(decodeEncryptionConfiguration(formatEncryptionConfiguration(c)), c);
    // parse = decode + build; the built setup carries the same configuration.
    assert.deepEqual(parseEncryptionConfiguration(yaml).config, c);
  });

  it('accepts the legacy kind EncryptionConfig / apiVersion v1', () => {
    const c = decodeEncryptionConfiguration(`kind: EncryptionConfig\napiVersion: v1\nresources:\n  - resources: [secrets]\n    providers: [{identity: {}}]\n`);
    assert.equal(c.resources[0]!.providers[0]!.type, 'identity');
  });

  const cases: Array<[string, string, RegExp]> = [
    ['bad base64', withProviders(`[{aescbc: {keys: [{name: k, secret: "not*base64!"}]}}]`), /^invalid encryption configuration: resources\[0\]\.providers\[0\]\.aescbc\.keys\[0\]\.secret: Invalid value: "REDACTED": secrets must be base64 encoded$/],
    ['base64 without padding', withProviders(`[{aescbc: {keys: [{name: k, secret: "${LEAKY.replace(/=+$/, '')}"}]}}]`), /keys\[0\]\.secret: .*secrets must be base64 encoded/],
    ['wrong AES key length', withProviders(`[{aesgcm: {keys: [{name: k, secret: ${Buffer.alloc(20).toString('base64')}}]}}]`), /resources\[0\]\.providers\[0\]\.aesgcm\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 20, expected one of \[16 24 32\]/],
    ['wrong secretbox key length', withProviders(`[{secretbox: {keys: [{name: k, secret: ${K16}}]}}]`), /providers\[0\]\.secretbox\.keys\[0\]\.secret: .*secret is not of the expected length, got 16, expected one of \[32\]/],
    ['two providers in one element', withProviders(`[{identity: {}}, {aescbc: {keys: [{name: k, secret: ${LEAKY}}]}, identity: {}}]`), /resources\[0\]\.providers\[1\]: Invalid value: more than one provider specified in a single element, should split into different list elements/],
    ['empty provider element', withProviders(`[{}]`), /resources\[0\]\.providers\[0\]: Invalid value: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity/],
    ['null provider is absent, as in Go', withProviders(`[{identity: null}]`), /provider does not contain any of the expected providers/],
    ['same resource twice', withProviders(`[{identity: {}}]`, '[secrets, configmaps, secrets]'), /resources\[0\]\.resources: Invalid value: \["secrets","configmaps","secrets"\]: the same resource cannot be specified multiple times/],
    ['overlap with a wildcard', withProviders(`[{identity: {}}]`, "[secrets, '*.']"), /resources\[0\]\.resources: .*overlapping resources/],
    ['capital letters', withProviders(`[{identity: {}}]`, '[Secrets]'), /resources\[0\]\.resources\[0\]: Invalid value: "Secrets": resource name should not contain capital letters/],
    ['bare star', withProviders(`[{identity: {}}]`, "['*']"), /use '\*\.' to encrypt all the resources from core API group/],
    ['resource across groups', withProviders(`[{identity: {}}]`, "['secrets.*']"), /encrypting the same resource across groups is not supported/],
    ['events.k8s.io', withProviders(`[{identity: {}}]`, '[events.events.k8s.io]'), /stored using the 'events' API group/],
    ['no resources', `${HEAD}resources: []\n`, /^invalid encryption configuration: resources: Required value: at least one resources is required$/],
    ['entry without resources', withProviders(`[{identity: {}}]`, '[]'), /resources\[0\]\.resources: Required value: at least one resources\[0\]\.resources is required/],
    ['entry without providers', withProviders(`[]`), /resources\[0\]\.providers: Required value: at least one resources\[0\]\.providers is required/],
    ['provider without keys', withProviders(`[{aescbc: {keys: []}}]`), /resources\[0\]\.providers\[0\]\.aescbc\.keys: Required value: at least one keys is required/],
    ['key without name', withProviders(`[{aescbc: {keys: [{secret: ${LEAKY}}]}}]`), /aescbc\.keys\[0\]\.name: Required value: name is a mandatory field for a key/],
    ['key without secret', withProviders(`[{aescbc: {keys: [{name: k}]}}]`), /aescbc\.keys\[0\]\.secret: Required value: secret is a mandatory field for a key/],
    ['duplicate key names', withProviders(`[{aescbc: {keys: [{name: k, secret: ${LEAKY}}, {name: k, secret: ${K16}}]}}]`), /aescbc\.keys\[1\]\.name: Duplicate value: "k"/],
    ['numeric key name (Go refuses it too)', withProviders(`[{aescbc: {keys: [{name: 1, secret: ${LEAKY}}]}}]`), /aescbc\.keys\[0\]\.name: .*expected string/],
    ['secret of the wrong type', withProviders(`[{aescbc: {keys: [{name: k, secret: 12345}]}}]`), /aescbc\.keys\[0\]\.secret: .*expected string/],
    ['unknown provider', withProviders(`[{aesgmc: {keys: [{name: k, secret: ${LEAKY}}]}}]`), /resources\[0\]\.providers\[0\]\.aesgmc: unknown field "aesgmc"/],
    ['unknown field in a key', withProviders(`[{aescbc: {keys: [{name: k, secret: ${LEAKY}, extra: 1}]}}]`), /aescbc\.keys\[0\]\.extra: unknown field "extra"/],
    ['wrong kind', `kind: Secret\napiVersion: v1\nresources: []\n`, /got unexpected config type "v1, Kind=Secret"/],
    ['no kind', `resources:\n  - resources: [secrets]\n    providers: [{identity: {}}]\n`, /kind and apiVersion are required/],
    ['empty file', '  \n', /the file is empty/],
    ['broken YAML quoting a secret', `${HEAD}resources:\n  - resources: [secrets]\n    providers: [{aescbc: {keys: [{name: k, secret: "${LEAKY}}]}}]\n`, /^invalid encryption configuration: line \d+, column \d+: /],
    ['duplicate YAML keys', `${HEAD}kind: EncryptionConfiguration\nresources: []\n`, /line 3, column 1: Map keys must be unique/],
    ['masked by an earlier wildcard', `${HEAD}resources:\n  - resources: ['*.apps']\n    providers: [{identity: {}}]\n  - resources: [deployments.apps]\n    providers: [{identity: {}}]\n`, /resources\[1\]\.resources\[0\]: resource "deployments\.apps" is masked by earlier rule "\*\.apps"/],
    ['masked by *.*', `${HEAD}resources:\n  - resources: ['*.*']\n    providers: [{identity: {}}]\n  - resources: [secrets]\n    providers: [{identity: {}}]\n`, /resource "secrets" is masked by earlier rule "\*\.\*"/],
    ['KMS over TCP', withProviders(`[{kms: {apiVersion: v2, name: k, endpoint: "tcp://1.2.3.4:80"}}]`), /kms\.endpoint: Invalid value: "tcp:\/\/1\.2\.3\.4:80": unsupported scheme "tcp" for KMS provider, only unix is supported/],
    ['KMS v2 with a colon in its name', withProviders(`[{kms: {apiVersion: v2, name: "a:b", endpoint: "unix:///k.sock"}}]`), /invalid KMS provider name a:b, must not contain ':'/],
  ];
  for (const [name, text, want] of cases) {
    it(`refuses: ${name}`, () => {
      const err = configError(text);
      assert.match(err.message, want);
      assert.ok(err.problems.length >= 1, 'lists its problems');
    });
  }

  it('reports every problem of a configuration on one line', () => {
    const err = configError(withProviders(`[{aescbc: {keys: [{name: a, secret: "%%%"}, {name: b, secret: ${K16.slice(0, 8)}}]}}, {}]`, '[Secrets]'));
    assert.equal(err.problems.length, 4);
    assert.match(err.message, /resources\[0\]\.resources\[0\].*; .*keys\[0\]\.secret.*base64.*; .*keys\[1\]\.secret.*got 6.*; .*providers\[1\]: .*expected providers/);
  });

  it('never echoes a secret, whichever rule trips', () => {
    const bad = [
      withProviders(`[{aescbc: {keys: [{name: k, secret: "${LEAKY}x"}]}}]`),
      withProviders(`[{secretbox: {keys: [{name: k, secret: "${Buffer.from(LEAKY_RAW.slice(0, 31)).toString('base64')}"}]}}]`),
      withProviders(`[{aescbc: {keys: [{name: k, secret: ${LEAKY}}]}, identity: {}}]`),
      withProviders(`[{aescbc: {keys: [{name: k, secret: ${LEAKY}, oops: 1}]}}]`),
      `${HEAD}resources:\n  - resources: [secrets]\n    providers:\n      - aescbc:\n          keys:\n          - name: k\n            secret: ${LEAKY}\n         bad: [\n`,
    ];
    for (const text of bad) configError(text); // configError asserts the absence
  });

  it('loads from a file; a missing or broken file is a one-line UserError naming it', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, withProviders(`[{aescbc: {keys: [{name: k, secret: ${LEAKY}}]}}]`));
    const setup = loadEncryptionConfiguration(good);
    assert.equal(setup.resolve('secrets').entries[0]!.keyName, 'k');

    assert.throws(() => loadEncryptionConfiguration(join(dir, 'missing.yaml')), (e: unknown) => e instanceof UserError && /^cannot read encryption configuration .*missing\.yaml: no such file$/.test(e.message));
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    assert.throws(() => loadEncryptionConfiguration(sub), (e: unknown) => e instanceof UserError && /it is a directory/.test(e.message));
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, withProviders(`[{aescbc: {keys: [{name: k, secret: "zz"}]}}]`));
    assert.throws(() => loadEncryptionConfiguration(broken), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`invalid encryption configuration ${broken}: `));
  });
});
