import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { readAgentStatus } from '../src/agent/status.js';
import { hostPaths } from '../src/home/layout.js';
import { waitFor } from '../src/util/time.js';
import { bins } from './helpers/etcd.js';
import { upHome, type TestHome } from './helpers/home.js';

function kubectl(t: TestHome, args: string[], opts: { context?: string; input?: string } = {}) {
  const r = spawnSync('kubectl', ['--kubeconfig', join(t.home, 'kubeconfig'), ...(opts.context ? ['--context', opts.context] : []), '--request-timeout=10s', ...args], {
    encoding: 'utf8',
    input: opts.input,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function apiserverPid(t: TestHome, host: string): number | undefined {
  const s = readAgentStatus(hostPaths(t.home, host).podStatusFile);
  const c = s?.pods.find((p) => p.name === `kube-apiserver-${host}`)?.containers[0];
  return c?.state === 'Running' ? c.pid : undefined;
}

describe('the API server on the local control plane', { timeout: 180_000 }, () => {
  let t: TestHome;
  before(async () => {
    t = await upHome();
  });
  after(async () => t?.destroy());

  it('runs as a static pod on every host from its installed revision, identity encryption first', () => {
    for (const h of t.cluster.hosts) {
      const p = hostPaths(t.home, h.name);
      const pod = parse(readFileSync(join(p.manifests, 'kube-apiserver-pod.yaml'), 'utf8'));
      assert.equal(pod.metadata.namespace, 'openshift-kube-apiserver');
      assert.equal(pod.metadata.labels.revision, '1');
      const dir = join(p.staticPodResources, 'kube-apiserver-pod-1');
      assert.equal(pod.spec.volumes.find((v: any) => v.name === 'resource-dir').hostPath.path, dir);
      const enc = parse(readFileSync(join(dir, 'secrets/encryption-config/encryption-config'), 'utf8'));
      assert.equal(enc.kind, 'EncryptionConfiguration');
      assert.deepEqual(enc.resources[0].providers, [{ identity: {} }]);
      assert.equal(statSync(join(dir, 'secrets/encryption-config/encryption-config')).mode & 0o777, 0o600);
      assert.ok(apiserverPid(t, h.name), `${h.name} runs its API server`);
    }
    assert.equal(statSync(join(t.home, 'kubeconfig')).mode & 0o777, 0o600);
  });

  it('serves kubectl through the load balancer with the kubeconfig, and stores JSON at the documented keys', () => {
    const r = kubectl(t, ['create', 'secret', 'generic', 'db', '--from-literal=password=hunter2']);
    assert.equal(r.code, 0, r.stderr);
    const stored = spawnSync(bins.etcdctl, [...t.etcdctlArgs, 'get', '/kubernetes.io/secrets/default/db', '--print-value-only'], { encoding: 'utf8' }).stdout;
    const obj = JSON.parse(stored);
    assert.equal(obj.kind, 'Secret');
    assert.equal(Buffer.from(obj.data.password, 'base64').toString(), 'hunter2');
    assert.match(kubectl(t, ['get', 'kubeapiserver', 'cluster', '-o', 'jsonpath={.metadata.name}']).stdout, /^cluster$/);
    const dev = kubectl(t, ['get', 'secrets', '-n', 'openshift-config-managed'], { context: 'developer' });
    assert.notEqual(dev.code, 0);
    assert.match(dev.stderr, /Forbidden/);
  });

  it('keeps kubectl working while one API server instance is killed, and the agent restarts it', async () => {
    const pid = apiserverPid(t, 'master-1')!;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 8; i++) {
      const r = kubectl(t, ['create', 'configmap', `during-${i}`, '--from-literal=i=' + i]);
      assert.equal(r.code, 0, `request ${i} while an instance is down: ${r.stderr}`);
    }
    assert.equal(kubectl(t, ['get', 'configmaps', '-o', 'name']).stdout.split('\n').filter((l) => l.startsWith('configmap/during-')).length, 8);
    await waitFor('the agent to restart the API server', 20_000, () => {
      const p = apiserverPid(t, 'master-1');
      return p && p !== pid ? p : undefined;
    });
  });
});
