import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCA, issueClientCert, issueServerCert, writeCert, writeCertKeyPair } from '../src/pki/index.js';
import { freePorts } from '../src/util/ports.js';
import { assertOneLineError, runCli } from './helpers/cli.js';
import { etcdctl, startEtcd, type StartedEtcd } from './helpers/etcd.js';
import { tempDir } from './helpers/cleanup.js';

const bigJson = (t: string) => JSON.parse(t.replace(/:(\d{16,})/g, ':"$1"'));

describe('cluster commands against any etcd through --endpoints', { timeout: 90_000 }, () => {
  let plain: StartedEtcd;
  before(async () => {
    plain = await startEtcd();
  });
  after(async () => plain?.stop());

  it('endpoint status agrees with etcdctl, in every format', async () => {
    etcdctl(plain, ['put', 'k', 'v']);
    const ours = await runCli(['endpoint', 'status', '--endpoints', plain.clientURL, '-w', 'json']);
    assert.equal(ours.code, 0, ours.stderr);
    assert.deepEqual(bigJson(ours.stdout), bigJson(etcdctl(plain, ['endpoint', 'status', '-w', 'json'])));
    for (const w of ['table', 'simple']) {
      const r = await runCli(['endpoint', 'status', '--endpoints', plain.clientURL, '-w', w]);
      assert.equal(r.stdout, etcdctl(plain, ['endpoint', 'status', '-w', w]), `-w ${w}`);
    }
  });

  it('member list and alarms agree with etcdctl; --cluster expands the member list', async () => {
    for (const w of ['table', 'simple']) {
      const r = await runCli(['member', 'list', '--endpoints', plain.clientURL, '-w', w]);
      assert.equal(r.stdout, etcdctl(plain, ['member', 'list', '-w', w]));
    }
    const json = await runCli(['member', 'list', '--endpoints', plain.clientURL, '-w', 'json']);
    const a = bigJson(json.stdout);
    const b = bigJson(etcdctl(plain, ['member', 'list', '-w', 'json']));
    assert.deepEqual(a.members, b.members);
    assert.equal(a.header.cluster_id, b.header.cluster_id);
    const host = new URL(plain.clientURL).host; // host:port, as etcdctl takes it too
    const cl = await runCli(['endpoint', 'status', '--endpoints', host, '--cluster', '-w', 'json']);
    assert.equal(cl.code, 0, cl.stderr);
    assert.equal(bigJson(cl.stdout)[0].Endpoint, plain.clientURL);
    const alarms = await runCli(['alarm', 'list', '--endpoints', plain.clientURL]);
    assert.equal(alarms.code, 0);
    assert.equal(alarms.stdout, etcdctl(plain, ['alarm', 'list']));
    const health = await runCli(['endpoint', 'health', '--endpoints', plain.clientURL, '-w', 'json']);
    assert.equal(JSON.parse(health.stdout)[0].health, true);
  });

  it('metrics scrape the client URL and compute the reclaimable MB', async () => {
    const r = await runCli(['metrics', '--endpoints', plain.clientURL, '-w', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const [m] = JSON.parse(r.stdout);
    assert.equal(m.etcd_server_quota_backend_bytes, 2 * 1024 ** 3);
    assert.ok(m.etcd_mvcc_db_total_size_in_bytes > 0);
    assert.ok(m.etcd_debugging_mvcc_db_total_size_in_bytes > 0);
    const table = await runCli(['metrics', '--endpoints', plain.clientURL]);
    assert.match(table.stdout, /RECLAIMABLE MB/);
  });

  it('an unreachable endpoint is a row with its error and a non-zero exit', async () => {
    const [dead] = await freePorts(1);
    const url = `http://127.0.0.1:${dead}`;
    const r = await runCli(['endpoint', 'status', '--endpoints', `${plain.clientURL},${url}`, '-w', 'table', '--command-timeout', '2s']);
    assert.notEqual(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.ok(lines.some((l) => l.includes(plain.clientURL) && l.includes('3.4.')), 'the live member still has its row');
    assert.ok(lines.some((l) => l.includes(url) && /connection refused|deadline/.test(l)), 'the dead one shows its error');
    assertOneLineError(r, /1 of 2 endpoints did not answer/);
    const h = await runCli(['endpoint', 'health', '--endpoints', url, '--command-timeout', '1s']);
    assert.notEqual(h.code, 0);
    assert.match(h.stderr, /is unhealthy: failed to commit proposal/);
    assert.match(h.stderr, /etcd-ops: unhealthy cluster/);
    const m = await runCli(['member', 'list', '--endpoints', url, '--command-timeout', '1s']);
    assertOneLineError(m, /no endpoint answered/);
  });
});

describe('a TLS cluster with client-certificate auth', { timeout: 60_000 }, () => {
  let etcd: StartedEtcd;
  let tlsFlags: string[];
  const dir = tempDir('etcd-ops-tls-');
  before(async () => {
    const ca = await createCA({ commonName: 'etcd-ca' });
    writeCert(join(dir, 'ca.crt'), ca.certPem);
    const server = writeCertKeyPair(dir, 'server', await issueServerCert(ca, { commonName: 'etcd', dnsNames: ['localhost'] }));
    const client = writeCertKeyPair(dir, 'client', await issueClientCert(ca, { commonName: 'root' }));
    etcd = await startEtcd({ tls: { ca: join(dir, 'ca.crt'), serverCert: server.certFile, serverKey: server.keyFile, clientCert: client.certFile, clientKey: client.keyFile } });
    tlsFlags = ['--endpoints', etcd.clientURL, '--cacert', join(dir, 'ca.crt'), '--cert', client.certFile, '--key', client.keyFile];
  });
  after(async () => etcd?.stop());

  it('answers status, health, members and metrics with --cacert/--cert/--key', async () => {
    const s = await runCli(['endpoint', 'status', ...tlsFlags, '-w', 'json']);
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(bigJson(s.stdout)[0].Status.header.member_id, bigJson(etcdctl(etcd, ['endpoint', 'status', '-w', 'json']))[0].Status.header.member_id);
    assert.equal((await runCli(['endpoint', 'health', ...tlsFlags])).code, 0);
    assert.equal((await runCli(['member', 'list', ...tlsFlags])).stdout, etcdctl(etcd, ['member', 'list']));
    const m = await runCli(['metrics', ...tlsFlags, '-w', 'json']);
    assert.equal(m.code, 0, m.stderr);
  });

  it('without the client certificate the member refuses, and we say so in one line', async () => {
    const r = await runCli(['member', 'list', '--endpoints', etcd.clientURL, '--cacert', join(dir, 'ca.crt'), '--command-timeout', '2s']);
    assertOneLineError(r, /no endpoint answered/);
    const missing = await runCli(['endpoint', 'status', '--endpoints', etcd.clientURL, '--cacert', join(dir, 'nope.crt')]);
    assertOneLineError(missing, /--cacert .*nope\.crt: no such file/);
    const half = await runCli(['endpoint', 'status', '--endpoints', etcd.clientURL, '--cert', join(dir, 'client.crt')]);
    assertOneLineError(half, /--cert and --key go together/);
  });
});

describe('bad input gets one clear line and a non-zero exit', { timeout: 60_000 }, () => {
  const scratch = tempDir('etcd-ops-bad-');

  it('an unknown home', async () => {
    assertOneLineError(await runCli(['endpoint', 'status', '--home', join(scratch, 'nope')]), /no etcd-ops home at .*nope: run `etcd-ops up/);
    assertOneLineError(await runCli(['ps', '--home', join(scratch, 'nope')]), /no etcd-ops home/);
    assertOneLineError(await runCli(['down', '--home', join(scratch, 'nope')]), /no etcd-ops home/);
  });

  it('a home folder that is not ours', async () => {
    const theirs = join(scratch, 'theirs');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'precious.txt'), 'data');
    assertOneLineError(await runCli(['up', '--home', theirs]), /exists and is not an etcd-ops home/);
    assertOneLineError(await runCli(['endpoint', 'status', '--home', theirs]), /is not an etcd-ops home/);
    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'cluster.json'), '{"apiVersion": 1}');
    assertOneLineError(await runCli(['endpoint', 'status', '--home', broken]), /is not an etcd-ops cluster file/);
  });

  it('bad flag values', async () => {
    assertOneLineError(await runCli(['up', '--home', join(scratch, 'x'), '--hosts', 'abc']), /--hosts.*must be a whole number from 1 to 9/);
    assertOneLineError(await runCli(['up', '--home', join(scratch, 'x'), '--hosts', '0']), /--hosts/);
    assertOneLineError(await runCli(['endpoint', 'status', '--endpoints', 'http://127.0.0.1:2379', '--command-timeout', 'soon']), /--command-timeout.*not a duration/);
    assertOneLineError(await runCli(['endpoint', 'status', '--endpoints', 'http://127.0.0.1:2379', '-w', 'xml']), /Allowed choices are simple, table, json/);
    assertOneLineError(await runCli(['endpoint', 'status', '--endpoints', 'ftp://x']), /is not an endpoint/);
    assertOneLineError(await runCli(['endpoint', 'bogus']), /unknown command|too many arguments/);
    assertOneLineError(await runCli(['--frobnicate']), /unknown option '--frobnicate'/);
  });

  it('help shows durations as durations, never as milliseconds', async () => {
    const help = async (args: string[]) => {
      const r = await runCli([...args, '--help']);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.replace(/\s+/g, ' ');
    };
    const defrag = await help(['defrag']);
    assert.match(defrag, /--catch-up-timeout <duration> .*\(default: 1m\)/);
    assert.match(defrag, /--min-wait <duration> .*\(default: 0s\)/);
    assert.match(defrag, /--command-timeout <duration> timeout for each request \(default: 30s\)/);
    for (const args of [['defrag'], ['compact'], ['up'], ['endpoint', 'status'], ['encryption', 'enable'], ['backup']]) {
      const text = args[0] === 'defrag' ? defrag : await help(args);
      assert.doesNotMatch(text, /\(default: \d+\)/, `${args.join(' ')} --help`);
    }
  });
});
