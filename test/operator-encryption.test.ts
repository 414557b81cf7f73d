import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readAgentStatus } from '../src/agent/status.js';
import { endpointStatuses } from '../src/etcd/status.js';
import { hostPaths } from '../src/home/layout.js';
import type { KubeClient, KubeObject } from '../src/kube/client.js';
import { encryptionReport } from '../src/operator/encryption/report.js';
import { waitFor } from '../src/util/time.js';
import { assertOneLineError } from './helpers/cli.js';
import { ENCRYPTED_PREFIXES, storedValues } from './helpers/etcdvalues.js';
import { upHome, type TestHome } from './helpers/home.js';
import { adminClient, CORE, createMany, kubectl, secret } from './helpers/kube.js';
import { tempDir } from './helpers/cleanup.js';

const SEED_KAS = `{range .items[0].status.conditions[?(@.type=="Encrypted")]}{.reason}{"\\n"}{.message}{"\\n"}`;

/**
 * The seed's jsonpath has no {end}: kubectl then prints the trailing "\n" literals once per
 * condition, so real clusters show blank lines after the two documented ones too.
 */
function seed(t: TestHome, resource: string): string {
  const r = kubectl(t, ['get', resource, '-o=jsonpath=' + SEED_KAS]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.replace(/\n+$/, '\n');
}

/** Ten objects of each of the five encrypted resources. */
function dataset(): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 0; i < 10; i++) {
    out.push(secret('default', `s-${i}`));
    out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data: { i: String(i) } });
    out.push({ apiVersion: 'route.openshift.io/v1', kind: 'Route', metadata: { name: `r-${i}`, namespace: 'default' }, spec: { host: `r${i}.example.com`, to: { kind: 'Service', name: `svc-${i}` } } });
    out.push({ apiVersion: 'oauth.openshift.io/v1', kind: 'OAuthAccessToken', metadata: { name: `sha256~access-token-${i}-abcdefghijklmnopqrstuvwxyz` }, userName: `user${i}`, clientName: 'console', scopes: ['user:full'], expiresIn: 86400 });
    out.push({ apiVersion: 'oauth.openshift.io/v1', kind: 'OAuthAuthorizeToken', metadata: { name: `sha256~authorize-token-${i}-abcdefghijklmnopqrstuvwxyz` }, userName: `user${i}`, clientName: 'console', scopes: ['user:full'], expiresIn: 300 });
  }
  return out;
}

async function allStored(t: TestHome): Promise<Map<string, Buffer>> {
  const all = new Map<string, Buffer>();
  for (const p of ENCRYPTED_PREFIXES) for (const [k, v] of await storedValues(t.conn, p)) all.set(k, v);
  return all;
}

async function waitSettled(kube: KubeClient, what: string, ok: (r: Awaited<ReturnType<typeof encryptionReport>>) => boolean, timeoutMs = 180_000) {
  return waitFor(what, timeoutMs, async () => {
    try {
      const r = await encryptionReport(kube);
      return ok(r) ? r : undefined;
    } catch {
      return undefined; // an API server restarting for the new revision
    }
  }, 1000);
}

const encryptedEverywhere = (r: Awaited<ReturnType<typeof encryptionReport>>, reason: string) =>
  r.components.every((c) => c.conditions.find((x) => x.type === 'Encrypted')?.reason === reason);

describe('encryption on a 3-host control plane, the way the seed does it', { timeout: 420_000 }, () => {
  let t: TestHome;
  let kube: KubeClient;
  before(async () => {
    t = await upHome();
    kube = adminClient(t);
    const list = { apiVersion: 'v1', kind: 'List', items: dataset() };
    const r = kubectl(t, ['create', '-f', '-'], { input: JSON.stringify(list) });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    kube?.close();
    await t?.destroy();
  });

  it('rejects an unknown mode at admission, and nothing changes', async () => {
    const r = kubectl(t, ['patch', 'apiserver', 'cluster', '--type=merge', '-p', '{"spec":{"encryption":{"type":"rot13"}}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unsupported value: "rot13": supported values: "", "identity", "aescbc", "aesgcm", "secretbox"/);
    const cli = await t.cli(['encryption', 'enable', 'rot13']);
    assertOneLineError(cli, /unknown encryption mode "rot13": use aescbc, aesgcm or secretbox/);
    assert.equal(kubectl(t, ['get', 'apiserver', 'cluster', '-o', 'jsonpath={.spec.encryption.type}']).stdout, '');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(kubectl(t, ['get', 'secrets', '-n', 'openshift-config-managed', '-o', 'name']).stdout.trim(), '', 'no key was made');
    assert.equal(seed(t, 'kubeapiserver'), 'EncryptionDisabled\nEncryption is not enabled\n');
  });

  it('enables aescbc through the APIServer object: every value is encrypted, kubectl reads them all, and the seed commands say so', async () => {
    const before = await allStored(t);
    const r = kubectl(t, ['patch', 'apiserver', 'cluster', '--type=merge', '-p', '{"spec":{"encryption":{"type":"aescbc"}}}']);
    assert.equal(r.code, 0, r.stderr);
    await waitSettled(kube, 'encryption to complete', (x) => encryptedEverywhere(x, 'EncryptionCompleted'));
    const stored = await allStored(t);
    assert.ok(stored.size >= before.size && before.size >= 50);
    for (const [k, v] of stored) assert.ok(v.subarray(0, 20).toString() === 'k8s:enc:aescbc:v1:1:', `${k} is encrypted with key 1: ${v.subarray(0, 20)}`);
    for (const res of ['secrets', 'configmaps', 'routes', 'oauthaccesstokens', 'oauthauthorizetokens']) {
      const got = kubectl(t, ['get', res, '-A', '-o', 'json']);
      assert.equal(got.code, 0, got.stderr);
      const items = JSON.parse(got.stdout).items as KubeObject[];
      assert.ok(items.length >= 10, `${res}: ${items.length}`);
    }
    assert.equal(kubectl(t, ['get', 'secret', 's-3', '-o', 'jsonpath={.data.payload}']).stdout, Buffer.alloc(64, 's-3').toString('base64'));
    assert.equal(seed(t, 'kubeapiserver'), 'EncryptionCompleted\nAll resources encrypted: secrets, configmaps\n');
    assert.equal(seed(t, 'openshiftapiserver'), 'EncryptionCompleted\nAll resources encrypted: routes.route.openshift.io\n');
    assert.equal(
      seed(t, 'authentication.operator.openshift.io'),
      'EncryptionCompleted\nAll resources encrypted: oauthaccesstokens.oauth.openshift.io, oauthauthorizetokens.oauth.openshift.io\n',
    );
    const progressing = kubectl(t, ['get', 'kubeapiserver', 'cluster', '-o', 'jsonpath={.status.conditions[?(@.type=="NodeInstallerProgressing")].reason} {.status.conditions[?(@.type=="NodeInstallerProgressing")].message}']).stdout;
    assert.match(progressing, /^AllNodesAtLatestRevision 3 nodes are at revision \d+$/);
    const key = JSON.parse(kubectl(t, ['get', 'secret', '-n', 'openshift-config-managed', 'encryption-key-openshift-kube-apiserver-1', '-o', 'json']).stdout);
    assert.equal(key.metadata.annotations['encryption.apiserver.operator.openshift.io/mode'], 'aescbc');
    assert.equal(key.metadata.annotations['encryption.apiserver.operator.openshift.io/internal-reason'], 'key-does-not-exist');
    assert.match(key.metadata.annotations['encryption.apiserver.operator.openshift.io/migrated-timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(key.metadata.annotations['encryption.apiserver.operator.openshift.io/migrated-resources'], '{"resources":[{"Group":"","Resource":"secrets"},{"Group":"","Resource":"configmaps"}]}');
    assert.equal(key.metadata.labels['encryption.apiserver.operator.openshift.io/component'], 'openshift-kube-apiserver');
    assert.equal(Buffer.from(key.data['encryption.apiserver.operator.openshift.io-key'], 'base64').length, 32);
    const events = kubectl(t, ['get', 'events', '-n', 'openshift-kube-apiserver-operator', '-o', 'json']).stdout;
    for (const reason of ['EncryptionKeyCreated', 'EncryptionKeyPromoted', 'EncryptionMigrationCompleted']) assert.ok(events.includes(reason), reason);
    assert.ok(!events.includes(key.data['encryption.apiserver.operator.openshift.io-key']), 'no key material in events');
  });

  it('disables encryption: every value is plaintext again and the conditions read DecryptionCompleted', async () => {
    const r = await t.cli(['encryption', 'disable', '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /openshift-kube-apiserver: DecryptionCompleted: Encryption mode set to identity and everything is decrypted/);
    for (const [k, v] of await allStored(t)) assert.equal(v[0], 0x7b, `${k} is plaintext JSON`);
    assert.equal(seed(t, 'kubeapiserver'), 'DecryptionCompleted\nEncryption mode set to identity and everything is decrypted\n');
  });
  it("redeploys etcd one member at a time on a new forceRedeploymentReason, as the seed's oc patch does", async () => {
    const etcdPids = () => t.cluster.hosts.map((h) => readAgentStatus(hostPaths(t.home, h.name).podStatusFile)!.pods.find((p) => p.name === `etcd-${h.name}`)!.containers.find((c) => c.name === 'etcd')!.pid);
    const before = etcdPids();
    const etcdBefore = await kube.get({ group: 'operator.openshift.io', version: 'v1', resource: 'etcds' }, 'cluster');
    const latestBefore: number = etcdBefore.status?.latestAvailableRevision ?? 0;
    const r = spawnSync('sh', ['-c', `kubectl --kubeconfig ${join(t.home, 'kubeconfig')} patch etcd cluster -p='{"spec": {"forceRedeploymentReason": "recovery-'"$( date --rfc-3339=ns )"'"}}' --type=merge`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /etcd.operator.openshift.io\/cluster patched/);
    const conn = { ...t.conn, commandTimeoutMs: 1000, dialTimeoutMs: 1000 };
    let mostDown = 0;
    const done = await waitFor('the etcd redeployment to finish', 120_000, async () => {
      const st = await endpointStatuses(conn);
      // Down is refused or unreachable; a member slow to answer on a loaded machine is up.
      mostDown = Math.max(mostDown, st.filter((x) => x.error && !/deadline|timed? ?out/i.test(String(x.error))).length);
      const e = await kube.get({ group: 'operator.openshift.io', version: 'v1', resource: 'etcds' }, 'cluster').catch(() => undefined);
      const latest = e?.status?.latestAvailableRevision ?? 0;
      const nodes = (e?.status?.nodeStatuses ?? []) as Array<{ currentRevision: number; targetRevision?: number }>;
      return latest > latestBefore && nodes.length === 3 && nodes.every((n) => n.currentRevision === latest && !n.targetRevision) ? e : undefined;
    }, 200);
    assert.equal(mostDown <= 1, true, `at most one member down at a time (saw ${mostDown})`);
    const after = etcdPids();
    for (let i = 0; i < 3; i++) assert.notEqual(after[i], before[i], `${t.cluster.hosts[i].name}'s etcd restarted`);
    const cond = done.status.conditions.find((c: { type: string }) => c.type === 'NodeInstallerProgressing');
    assert.equal(cond.reason, 'AllNodesAtLatestRevision');
    assert.equal(cond.message, `3 nodes are at revision ${done.status.latestAvailableRevision}`);
    assert.equal((await t.cli(['endpoint', 'health'])).code, 0);
  });
});

describe('rotation, a crash mid-migration, a mode change mid-migration, and controllers that never wait for a migration', { timeout: 600_000 }, () => {
  let t: TestHome;
  let kube: KubeClient;
  const N = 1500;
  before(async () => {
    t = await upHome(['--hosts', '1']);
    kube = adminClient(t);
    // Small pages at a capped pace, so a migration lasts long enough (about 5 s) to be interrupted.
    await kube.mergePatch({ group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers' }, 'cluster', {
      spec: { unsupportedConfigOverrides: { encryption: { migrationPageSize: 20, migrationObjectsPerSecond: 300 } } },
    });
    await createMany(kube, CORE('secrets', 'default'), Array.from({ length: N }, (_, i) => secret('default', `bulk-${i}`, 256)));
    const r = await t.cli(['encryption', 'enable', 'aescbc', '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    kube?.close();
    await t?.destroy();
  });

  const migration = async (keyId: number) => {
    const r = await encryptionReport(kube);
    const m = r.components.find((c) => c.component === 'openshift-kube-apiserver')!.migration;
    return m && m.writeKey === keyId && !m.completed && m.objects >= 100 ? m : undefined;
  };

  async function checkAll(prefix: string) {
    const stored = await storedValues(t.conn, '/kubernetes.io/secrets/');
    const bulk = [...stored].filter(([k]) => k.startsWith('/kubernetes.io/secrets/default/bulk-'));
    assert.equal(bulk.length, N, 'no object lost');
    for (const [k, v] of stored) assert.equal(v.subarray(0, prefix.length).toString(), prefix, k);
    const items = JSON.parse(kubectl(t, ['get', 'secrets', '-n', 'default', '-o', 'json']).stdout).items as KubeObject[];
    assert.equal(items.filter((s) => s.metadata.name.startsWith('bulk-')).length, N, 'every object reads');
    for (const s of items.filter((x) => x.metadata.name.startsWith('bulk-'))) {
      assert.equal(s.data.payload, Buffer.alloc(256, s.metadata.name).toString('base64'));
    }
  }

  it('survives SIGKILL of the active operator and its API server mid-migration, and resumes', async () => {
    const rot = await t.cli(['encryption', 'rotate']);
    assert.equal(rot.code, 0, rot.stderr);
    await waitFor('the migration to key 2 to be under way', 120_000, () => migration(2).catch(() => undefined), 200);
    const status = readAgentStatus(hostPaths(t.home, 'master-0').podStatusFile)!;
    const pidOf = (pod: string) => status.pods.find((p) => p.name === `${pod}-master-0`)!.containers[0].pid!;
    process.kill(pidOf('etcd-ops-operator'), 'SIGKILL');
    process.kill(pidOf('kube-apiserver'), 'SIGKILL');
    await waitSettled(kube, 'the migration to finish after the crash', (r) =>
      r.components.every((c) => c.writeKey === 'aescbc:2' && c.keys.find((k) => k.name.endsWith('-2'))?.migratedResources.length === c.resources.length));
    const logDir = `${hostPaths(t.home, 'master-0').podLogs}/openshift-kube-apiserver-operator_etcd-ops-operator-master-0/operator`;
    // One CRI log file per start of the container: the resume is in the one after the SIGKILL.
    const log = readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')).join('');
    assert.match(log, /migration of openshift-kube-apiserver to key 2 resumes: \d+ resources done, [1-9]\d* objects rewritten/);
    await checkAll('k8s:enc:aescbc:v1:2:');
  });

  it('rotates on its own when the interval has passed, and the oldest key leaves the configuration', async () => {
    // Long enough that key 3 cannot rotate again before the interval is set back (a 1 s interval
    // raced the test on a loaded machine and made key 4), short enough that key 2 is already due.
    await kube.mergePatch({ group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers' }, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { rotationInterval: '20s' } } } });
    const r = await waitSettled(kube, 'the weekly rotation, made quick', (x) => {
      const c = x.components.find((c) => c.component === 'openshift-kube-apiserver')!;
      return c.writeKey === "aescbc:3" && c.keys.find((k) => k.name.endsWith("-3"))?.migratedResources.length === 2;
    });
    await kube.mergePatch({ group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers' }, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { rotationInterval: '168h' } } } });
    // The other components rotate on the same interval, each at its own pace (no migration waits
    // for another): let every one finish and the last revision roll out before going on.
    await waitSettled(kube, 'every component to settle after the quick rotations', (x) =>
      x.nodes.every((n) => n.currentRevision === x.latestRevision && !n.targetRevision) &&
      x.components.every((c) => {
        const latest = c.keys.at(-1);
        return latest !== undefined && latest.migratedResources.length === c.resources.length && c.writeKey === `${latest.mode}:${/-(\d+)$/.exec(latest.name)![1]}`;
      }));
    const kas = r.components.find((c) => c.component === 'openshift-kube-apiserver')!;
    assert.deepEqual(kas.readKeys, ['aescbc:2'], 'one previous key stays; key 1 has left the configuration');
    const key3 = JSON.parse(kubectl(t, ['get', 'secret', '-n', 'openshift-config-managed', 'encryption-key-openshift-kube-apiserver-3', '-o', 'json']).stdout);
    assert.equal(key3.metadata.annotations['encryption.apiserver.operator.openshift.io/internal-reason'], 'rotation-interval-has-passed');
    await checkAll('k8s:enc:aescbc:v1:3:');
  });

  it('refuses a backup while a migration runs, ends correctly when the mode changes mid-migration, then backs up what the bundle decrypts', async () => {
    const dir = tempDir('etcd-ops-enc-backup-');
    const a = await t.cli(['encryption', 'enable', 'aesgcm']);
    assert.equal(a.code, 0, a.stderr);
    await waitFor('the aesgcm migration to be under way', 120_000, () => migration(4).catch(() => undefined), 200);
    // cluster-backup.sh's rule: no reliable backup while a rollout or a migration is in progress.
    const refused = await t.cli(['backup', join(dir, 'refused')], { timeoutMs: 60_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /A reliable backup requires that a rollout is not in progress\.  Aborting!/);
    const forced = await t.cli(['backup', join(dir, 'forced'), '--force'], { timeoutMs: 120_000 });
    assert.equal(forced.code, 0, forced.stderr);
    const names = readdirSync(join(dir, 'forced'));
    assert.equal(names.filter((n) => n.includes('__POSSIBLY_DIRTY__')).length, 2, names.join(', '));

    const b = await t.cli(['encryption', 'enable', 'secretbox', '--wait', '--timeout', '3m'], { timeoutMs: 200_000 });
    assert.equal(b.code, 0, b.stderr);
    await checkAll('k8s:enc:secretbox:v1:5:');
    assert.equal(seed(t, 'kubeapiserver'), 'EncryptionCompleted\nAll resources encrypted: secrets, configmaps\n');

    const ok = await t.cli(['backup', join(dir, 'clean')], { timeoutMs: 120_000 });
    assert.equal(ok.code, 0, ok.stderr);
    const inspect = await t.cli(['backup', 'inspect', join(dir, 'clean'), '-w', 'json'], { timeoutMs: 120_000 });
    assert.equal(inspect.code, 0, inspect.stderr);
    const report = JSON.parse(inspect.stdout);
    for (const name of ['secrets', 'configmaps']) {
      const row = report.resources.find((r: { resource: string }) => r.resource === name);
      assert.ok(row.keys > 0, name);
      assert.equal(row.encrypted, row.keys, `${name}: every value encrypted`);
      assert.equal(row.encryptedPercent, 100);
      assert.equal(row.decrypted, row.encrypted, `${name}: the bundle decrypts every value`);
      assert.equal(row.decryptFailed, 0);
    }
    assert.ok(!report.warnings.some((w: { code: string }) => ['partly-encrypted', 'key-missing', 'decrypt-failed'].includes(w.code)), JSON.stringify(report.warnings));
  });

  it('keeps reconciling during a slow migration: another component migrates and reports, and a rotation request is answered', async () => {
    const KAS = 'openshift-kube-apiserver';
    const OAS = 'openshift-apiserver';
    const kasOperator = { group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers' };
    const oasOperator = { group: 'operator.openshift.io', version: 'v1', resource: 'openshiftapiservers' };
    const latestKey = (r: Awaited<ReturnType<typeof encryptionReport>>, comp: string) =>
      Math.max(0, ...r.components.find((c) => c.component === comp)!.keys.map((k) => Number(/-(\d+)$/.exec(k.name)![1])));
    const component = (r: Awaited<ReturnType<typeof encryptionReport>>, comp: string) => r.components.find((c) => c.component === comp)!;
    /** The component's latest key is `id`, migrated, and its Encrypted condition says so. */
    const completedAt = (r: Awaited<ReturnType<typeof encryptionReport>>, comp: string, id: number) => {
      const c = component(r, comp);
      const key = c.keys.find((k) => k.name.endsWith(`-${id}`));
      return latestKey(r, comp) === id && key?.migratedResources.length === c.resources.length && c.conditions.find((x) => x.type === 'Encrypted')?.reason === 'EncryptionCompleted';
    };
    // About 20 objects a second: rewriting the 1500 Secrets takes over a minute.
    await kube.mergePatch(kasOperator, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { migrationObjectsPerSecond: 20 } } } });
    const before = await encryptionReport(kube);
    const kasKey = latestKey(before, KAS) + 1;
    const oasKey = latestKey(before, OAS) + 1;
    const rot = await t.cli(['encryption', 'rotate']);
    assert.equal(rot.code, 0, rot.stderr);
    const first = await waitFor('the slow migration of the Secrets to be under way', 120_000, () => migration(kasKey).catch(() => undefined), 200);

    // The conditions follow the migration as it goes.
    const rewritten = (r: Awaited<ReturnType<typeof encryptionReport>>) => {
      const m = /(\d+) objects rewritten/.exec(component(r, KAS).conditions.find((x) => x.type === 'EncryptionMigrationControllerProgressing' && x.status === 'True')?.message ?? '');
      return m ? Number(m[1]) : undefined;
    };
    const seen = await waitSettled(kube, 'the Progressing condition to report the migration', (r) => rewritten(r) !== undefined, 30_000);
    await waitSettled(kube, 'the Progressing condition to report more objects rewritten', (r) => rewritten(r)! > rewritten(seen)!, 30_000);

    // The other API server's resources are migrated and reported while the Secrets are still being rewritten.
    const oasDone = await waitSettled(kube, `${OAS} to finish its own migration to key ${oasKey}`, (r) => completedAt(r, OAS, oasKey), 120_000);
    assert.equal(component(oasDone, KAS).migration?.completed, false, `${KAS} is still migrating`);
    assert.ok(component(oasDone, KAS).migration!.objects >= first.objects);

    // A rotation request during the migration: the component that is not migrating gets its new key at once.
    await kube.mergePatch(oasOperator, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { reason: `rotate-during-migration-${Date.now()}` } } } });
    const rotated = await waitSettled(kube, `${OAS} to rotate to key ${oasKey + 1} during the migration`, (r) => completedAt(r, OAS, oasKey + 1), 120_000);
    assert.equal(component(rotated, KAS).migration?.completed, false, `${KAS} is still migrating`);
    assert.equal(latestKey(rotated, KAS), kasKey, `${KAS} makes no new key while its latest is not migrated`);

    // The pace cap lifted, the running migration speeds up and finishes.
    await kube.mergePatch(kasOperator, 'cluster', { spec: { unsupportedConfigOverrides: { encryption: { migrationObjectsPerSecond: null } } } });
    const done = await waitSettled(kube, `${KAS} to finish its migration to key ${kasKey}`, (r) => completedAt(r, KAS, kasKey), 120_000);
    await checkAll(`k8s:enc:${component(done, KAS).keys.at(-1)!.mode}:v1:${kasKey}:`);
  });
});
