/**
 * Re-encrypting Secrets: the operator's migration (the storage layer's batched no-op updates)
 * against two baselines measured in the same run:
 *   - the raw etcd ceiling: batched transaction puts of the same encrypted bytes (etcd3 client);
 *   - the manual way: `kubectl get secrets -o json | kubectl replace -f -` against our API server.
 * Targets: at least 60 % of the ceiling, and at least 20x the kubectl method.
 *
 *   node --import tsx bench/migration.ts [--n 50000] [--kubectl-n 2000]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { parseEncryptionConfiguration } from '../src/encryption/index.js';
import { KubeClient } from '../src/kube/client.js';
import type { OperatorContext } from '../src/operator/context.js';
import { migrateComponent } from '../src/operator/encryption/migrate.js';
import type { Component } from '../src/operator/encryption/components.js';
import type { EncryptionKey } from '../src/operator/encryption/keys.js';
import { DEFAULT_OPTIONS } from '../src/operator/main.js';
import { ADMIN_TOKEN, startAPIServer } from '../test/helpers/apiserver.js';
import { startEtcd } from '../test/helpers/etcd.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('n', 50_000);
const KUBECTL_N = arg('kubectl-n', 2_000);
const VALUE_BYTES = 2048;
const key = randomBytes(32);

const aescbcConfig = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc: {keys: [{name: "1", secret: ${key.toString('base64')}}]}
      - identity: {}
`;

function secretJson(ns: string, name: string): Buffer {
  const obj = {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { name, namespace: ns, uid: `uid-${name}`, creationTimestamp: new Date().toISOString() },
    type: 'Opaque',
    data: { payload: randomBytes(VALUE_BYTES * 0.75).toString('base64') },
  };
  return Buffer.from(JSON.stringify(obj) + '\n');
}

/** Writes plaintext Secrets straight into etcd, as an unencrypted cluster holds them. */
async function seed(client: Etcd3, ns: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 128) {
    const ops = [];
    for (let j = i; j < Math.min(n, i + 128); j++) ops.push({ request_put: { key: Buffer.from(`/kubernetes.io/secrets/${ns}/s-${String(j).padStart(6, '0')}`), value: secretJson(ns, `s-${String(j).padStart(6, '0')}`) } });
    await client.kv.txn({ compare: [], success: ops, failure: [] });
  }
}

const rate = (n: number, ms: number) => (n / ms) * 1000;
const fmt = (x: number) => x.toFixed(0).padStart(9);

const etcd = await startEtcd({ extraArgs: ['--quota-backend-bytes', String(8 * 1024 ** 3), '--max-txn-ops', '1024'] });
const client = new Etcd3({ hosts: etcd.clientURL });
const api = await startAPIServer({ etcd, encryptionConfig: aescbcConfig, compactionInterval: 0 });
try {
  process.stdout.write(`seeding ${N} + ${KUBECTL_N} plaintext Secrets of ${VALUE_BYTES} B ...\n`);
  await seed(client, 'bench', N);
  await seed(client, 'kubectl', KUBECTL_N);
  const transformers = parseEncryptionConfiguration(aescbcConfig).transformerFor;

  // 1. Ours: the migration controller's engine, progress record included.
  const kube = new KubeClient({ server: api.url, ca: readFileSync(api.caFile, 'utf8'), token: ADMIN_TOKEN });
  const ctx: OperatorContext = { kube, etcd: client, options: DEFAULT_OPTIONS, log: () => {}, now: () => new Date() };
  const component: Component = { name: 'bench', resources: [{ group: '', resource: 'secrets' }], operator: { group: 'operator.openshift.io', version: 'v1', resource: 'kubeapiservers' } };
  const writeKey: EncryptionKey = { component: 'bench', id: 1, secretName: 'bench', mode: 'aescbc', key, migratedResources: [] };
  const m0 = performance.now();
  const rec = await migrateComponent(ctx, component, writeKey, transformers, async () => {});
  const oursMs = performance.now() - m0;
  const check = await client.getAll().prefix('/kubernetes.io/secrets/bench/').limit(5).buffers();
  for (const v of Object.values(check)) if (!v.subarray(0, 18).equals(Buffer.from('k8s:enc:aescbc:v1:'))) throw new Error('the migration left plaintext');

  // 2. The raw ceiling: the same encrypted bytes, batched transaction puts, same batch size and concurrency.
  const t = transformers('secrets');
  const encrypted: Array<{ key: Buffer; value: Buffer }> = [];
  for (let i = 0; i < N; i++) {
    const k = `/kubernetes.io/secrets/ceiling/s-${i}`;
    encrypted.push({ key: Buffer.from(k), value: t.toStorage(secretJson('ceiling', `s-${i}`), { key: k }) });
  }
  const conc = DEFAULT_OPTIONS.migrationConcurrency;
  let next = 0;
  const c0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      for (;;) {
        const start = next;
        next += 128;
        if (start >= N) return;
        const batch = encrypted.slice(start, start + 128);
        await client.kv.txn({ compare: [], success: batch.map((b) => ({ request_put: b })), failure: [] });
      }
    }),
  );
  const ceilingMs = performance.now() - c0;

  // 3. The manual way, on its own namespace (re-seeded as plaintext so there is work to do).
  await seed(client, 'kubectl', KUBECTL_N);
  const k0 = performance.now();
  const r = spawnSync('sh', ['-c', `kubectl --kubeconfig ${api.kubeconfig} get secrets -n kubectl -o json | kubectl --kubeconfig ${api.kubeconfig} replace -f - >/dev/null`], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const kubectlMs = performance.now() - k0;
  if (r.status !== 0) throw new Error(`kubectl replace failed: ${r.stderr}`);

  const ours = rate(rec.objects, oursMs);
  const ceiling = rate(N, ceilingMs);
  const manual = rate(KUBECTL_N, kubectlMs);
  const out = [
    '',
    `re-encrypting Secrets of ${VALUE_BYTES} B (identity → aescbc), load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
    '',
    `                                   objects    seconds   objects/s`,
    `raw etcd ceiling (batched txn)  ${String(N).padStart(9)}  ${(ceilingMs / 1000).toFixed(2).padStart(9)}  ${fmt(ceiling)}`,
    `etcd-ops migration              ${String(rec.objects).padStart(9)}  ${(oursMs / 1000).toFixed(2).padStart(9)}  ${fmt(ours)}`,
    `kubectl get | kubectl replace   ${String(KUBECTL_N).padStart(9)}  ${(kubectlMs / 1000).toFixed(2).padStart(9)}  ${fmt(manual)}`,
    '',
    `ours / ceiling: ${(ours / ceiling).toFixed(2)}  (target >= 0.60: ${ours / ceiling >= 0.6 ? 'met' : 'MISSED'})`,
    `ours / kubectl: ${(ours / manual).toFixed(1)}x  (target >= 20x: ${ours / manual >= 20 ? 'met' : 'MISSED'})`,
    `(the migration walked every Secret: the ${N} benchmark ones, the ${KUBECTL_N} for kubectl, and the cluster's own)`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  kube.close();
} finally {
  client.close();
  await api.stop();
  await etcd.stop();
}
