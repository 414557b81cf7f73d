import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CORE, KubeClient, type KubeObject, type ResourceRef } from '../../src/kube/client.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { TestHome } from './home.js';

export function kubectl(t: TestHome, args: string[], opts: { context?: string; input?: string; timeoutMs?: number } = {}) {
  const r = spawnSync('kubectl', ['--kubeconfig', join(t.home, 'kubeconfig'), ...(opts.context ? ['--context', opts.context] : []), '--request-timeout=20s', ...args], {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function adminClient(t: TestHome): KubeClient {
  return new KubeClient(loadKubeconfig(join(t.home, 'kubeconfig')), 20_000);
}

/** Creates objects through the API with bounded concurrency. */
export async function createMany(kube: KubeClient, ref: ResourceRef, objs: KubeObject[], concurrency = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < objs.length) await kube.create(ref, objs[next++]);
    }),
  );
}

export const secret = (ns: string, name: string, bytes = 64): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  type: 'Opaque',
  data: { payload: Buffer.alloc(bytes, name).toString('base64') },
});

export { CORE };
