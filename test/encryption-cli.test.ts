import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startEtcd, bins, type StartedEtcd } from './helpers/etcd.js';
import { projectRoot, assertOneLineError } from './helpers/cli.js';
import { trackPid, untrackPid, tempDir } from './helpers/cleanup.js';
import { loadEncryptionConfiguration } from '../src/encryption/index.js';

const LEAKY_RAW = 'KEYMATERIAL-DO-NOT-LEAK-32bytes!';
const LEAKY = Buffer.from(LEAKY_RAW).toString('base64');

interface BinResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** The real CLI with binary stdin and stdout. */
function cli(args: string[], input: Buffer | string = ''): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin/etcd-ops.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    trackPid(child.pid!);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcd-ops ${args.join(' ')} took too long; stderr: ${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      untrackPid(child.pid!);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.end(input);
  });
}

function etcdctlBin(member: StartedEtcd, args: string[], input?: Buffer): Buffer {
  const r = spawnSync(bins.etcdctl, [...member.ctlArgs, ...args], { input, env: { ...process.env, ETCDCTL_API: '3' }, timeout: 15_000 });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const asText = (r: BinResult) => ({ code: r.code, stdout: r.stdout.toString('latin1'), stderr: r.stderr });

describe('etcd-ops encryption encrypt|decrypt through a real etcd', { timeout: 180_000 }, () => {
  const dir = tempDir('etcd-ops-enc-cli-');
  const config = join(dir, 'encryption-config.yaml');
  const otherKeyConfig = join(dir, 'other-key.yaml');
  const badConfig = join(dir, 'bad.yaml');
  let etcd: StartedEtcd | undefined;

  before(async () => {
    const cfg = (cbcSecret: string) => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc: {keys: [{name: "1", secret: ${cbcSecret}}]}
      - identity: {}
  - resources: [configmaps]
    providers:
      - aesgcm: {keys: [{name: g1, secret: ${Buffer.alloc(16, 7).toString('base64')}}]}
  - resources: [routes.route.openshift.io]
    providers:
      - secretbox: {keys: [{name: s1, secret: ${randomBytes(32).toString('base64')}}]}
`;
    writeFileSync(config, cfg(LEAKY));
    writeFileSync(otherKeyConfig, cfg(randomBytes(32).toString('base64')));
    writeFileSync(badConfig, cfg(`${LEAKY.slice(0, 20)}`));
    etcd = await startEtcd();
  });

  after(async () => {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Plaintexts that would break a text pipeline: NULs, newlines, high bytes, a protobuf magic.
  const values: Array<[string, string, Buffer]> = [
    ['/kubernetes.io/secrets/default/db-creds', 'aescbc', Buffer.from('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}\n')],
    ['/kubernetes.io/configmaps/default/cfg', 'aesgcm', Buffer.concat([Buffer.from('k8s\x00', 'latin1'), randomBytes(300), Buffer.from('\n\n')])],
    ['/openshift.io/routes/default/web', 'secretbox', Buffer.concat([randomBytes(64), Buffer.from([0, 10, 13, 255])])],
  ];

  for (const [key, provider, plain] of values) {
    it(`${provider}: encrypt → etcdctl put → etcdctl get → decrypt gives the original (${key})`, async () => {
      const enc = await cli(['encryption', 'encrypt', '--config', config, '--etcd-key', key], plain);
      assert.equal(enc.code, 0, enc.stderr);
      assert.equal(enc.stderr, '');
      const stored = enc.stdout;
      assert.equal(stored.toString('latin1').startsWith(`k8s:enc:${provider}:v1:`), true, `prefix of ${stored.subarray(0, 30).toString('latin1')}`);
      assert.equal(stored.includes(plain.subarray(0, 16)), false, 'ciphertext does not contain the plaintext');

      // etcdctl put reads the value from stdin when it is not an argument: byte for byte.
      etcdctlBin(etcd!, ['put', key], stored);
      const json = JSON.parse(etcdctlBin(etcd!, ['get', key, '-w', 'json']).toString()) as { kvs: Array<{ value: string }> };
      assert.deepEqual(Buffer.from(json.kvs[0]!.value, 'base64'), stored, 'etcd holds exactly the bytes we wrote');

      // --print-value-only adds a newline after the value; decrypt copes with it (exact bytes: next test).
      const printed = etcdctlBin(etcd!, ['get', key, '--print-value-only']);
      assert.deepEqual(printed, Buffer.concat([stored, Buffer.from('\n')]));
      const dec = await cli(['encryption', 'decrypt', '--config', config, '--etcd-key', key], printed);
      assert.equal(dec.code, 0, dec.stderr);
      assert.deepEqual(dec.stdout, plain);
    });
  }

  it('--resource overrides the resource taken from the key; plaintext passes through identity', async () => {
    const key = '/custom/place/x';
    const enc = await cli(['encryption', 'encrypt', '--config', config, '--etcd-key', key, '--resource', 'secrets'], 'hello');
    assert.equal(enc.code, 0, enc.stderr);
    assert.equal(enc.stdout.toString('latin1').startsWith('k8s:enc:aescbc:v1:1:'), true);
    const [dec, plainRead] = await Promise.all([
      cli(['encryption', 'decrypt', '--config', config, '--etcd-key', key, '--resource', 'secrets'], enc.stdout),
      cli(['encryption', 'decrypt', '--config', config, '--etcd-key', '/kubernetes.io/secrets/ns/plain'], '{"kind":"Secret"}'),
    ]);
    assert.equal(dec.stdout.toString(), 'hello');
    assert.equal(plainRead.code, 0, plainRead.stderr);
    assert.equal(plainRead.stdout.toString(), '{"kind":"Secret"}');
  });

  it('errors are one clear line, exit non-zero, and never show key material', async () => {
    const key = '/kubernetes.io/secrets/default/db-creds';
    // Values made in-process (the CLI's encrypt path is covered above): fewer slow CLI starts.
    const setup = loadEncryptionConfiguration(config);
    const stored = setup.transformerFor('secrets').toStorage(Buffer.from('top secret'), { key });
    const gcmStored = setup.transformerFor('configmaps').toStorage(Buffer.from('x'), { key: '/kubernetes.io/configmaps/a/b' });
    const [missing, bad, wrongKey, wrongAad, unknownKey] = await Promise.all([
      cli(['encryption', 'decrypt', '--config', join(dir, 'nope.yaml'), '--etcd-key', key], stored),
      cli(['encryption', 'decrypt', '--config', badConfig, '--etcd-key', key], stored),
      cli(['encryption', 'decrypt', '--config', otherKeyConfig, '--etcd-key', key], stored),
      cli(['encryption', 'decrypt', '--config', config, '--etcd-key', '/kubernetes.io/configmaps/a/other'], gcmStored),
      cli(['encryption', 'encrypt', '--config', config, '--etcd-key', '/nowhere/x'], 'x'),
    ]);
    assertOneLineError(asText(missing), /^etcd-ops: cannot read encryption configuration .*nope\.yaml: no such file$/);
    assertOneLineError(asText(bad), /invalid encryption configuration .*bad\.yaml: resources\[0\]\.providers\[0\]\.aescbc\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 15, expected one of \[16 24 32\]$/);
    assertOneLineError(asText(wrongKey), /^etcd-ops: unable to decrypt key "\/kubernetes\.io\/secrets\/default\/db-creds": (invalid padding on input|invalid PKCS7 data \(empty or not padded\)) \(resource secrets\)$/);
    assertOneLineError(asText(wrongAad), /unable to decrypt key "\/kubernetes\.io\/configmaps\/a\/other": cipher: message authentication failed/);
    assertOneLineError(asText(unknownKey), /cannot tell the resource of etcd key "\/nowhere\/x": pass --resource/);
    for (const r of [missing, bad, wrongKey, wrongAad, unknownKey]) {
      assert.equal(r.stdout.length, 0, 'nothing on stdout');
      for (const s of [LEAKY, LEAKY_RAW, LEAKY.slice(0, 20)]) assert.equal(r.stderr.includes(s), false, `stderr leaks key material: ${r.stderr}`);
    }
  });
});
