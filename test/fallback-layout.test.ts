/**
 * The fallback layout: hosts that share the machine's network (no root, no namespaces, or
 * `--network shared`). Everything that does not need a network per host keeps working, with
 * etcd still over mutual TLS; the partition tool says why it cannot work here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers/cleanup.js';
import { assertOneLineError } from './helpers/cli.js';
import { bins } from './helpers/etcd.js';
import { upHome, type TestHome } from './helpers/home.js';
import { kubectl } from './helpers/kube.js';

describe('the fallback layout: hosts on the machine\'s network', { timeout: 180_000 }, () => {
  let t: TestHome & { up: { stdout: string } };
  before(async () => {
    t = await upHome(['--hosts', '1', '--network', 'shared']);
  });
  after(async () => t?.destroy());

  it('says so in one line, and keeps etcd on mutual TLS on loopback ports', () => {
    assert.match(t.up.stdout, /^hosts share this machine's network \(--network shared\): every feature but host isolate\/heal works$/m);
    assert.equal(t.cluster.network?.mode, 'shared');
    assert.match(t.cluster.hosts[0]!.clientURL, /^https:\/\/127\.0\.0\.1:\d+$/);
    const env = Object.fromEntries([...t.up.stdout.matchAll(/^\s+export (ETCDCTL_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const ok = spawnSync(bins.etcdctl, ['endpoint', 'health'], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    assert.equal(ok.status, 0, ok.stderr);
    const bare = spawnSync(bins.etcdctl, ['--dial-timeout=2s', '--command-timeout=3s', `--endpoints=${t.cluster.hosts[0]!.clientURL}`, `--cacert=${env.ETCDCTL_CACERT}`, 'endpoint', 'health'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.notEqual(bare.status, 0, 'no client certificate, no entry');
  });

  it('serves kubectl exec and logs, backs up, and refuses to isolate a host with a clear error', async () => {
    const st = kubectl(t, ['exec', '-n', 'openshift-etcd', 'etcd-master-0', '--', 'etcdctl', 'endpoint', 'status', '-w', 'table']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`\\| ${t.cluster.hosts[0]!.clientURL.replace(/\./g, '\\.')} \\|`));
    assert.match(kubectl(t, ['logs', '-n', 'openshift-etcd', 'etcd-master-0', '-c', 'etcd', '--tail', '5']).stdout, /\S/);
    const dir = join(tempDir('etcd-ops-fallback-'), 'backup');
    const b = await t.cli(['backup', dir], { timeoutMs: 120_000 });
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /snapshot db and kube resources are successfully saved to/);
    assertOneLineError(await t.cli(['host', 'isolate', 'master-0']), /master-0 shares the machine's network .* so it cannot be isolated/);
  });
});
