/**
 * The small Kubernetes client the operator, the agents and the CLI use, against our real API
 * server: every failure is one ApiError carrying the server's Status (code, reason, message,
 * details), and transport failures read as 503 and 504 the way callers expect.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiError, CORE, isAlreadyExists, isConflict, isNotFound, KubeClient } from '../src/kube/client.js';
import { ApiError as ServerApiError } from '../src/apiserver/status.js';
import { freePorts } from '../src/util/ports.js';
import { ADMIN_TOKEN, startAPIServer, type StartedAPIServer } from './helpers/apiserver.js';
import { startEtcd, type StartedEtcd } from './helpers/etcd.js';

describe('kube client errors', { timeout: 60_000 }, () => {
  let etcd: StartedEtcd;
  let api: StartedAPIServer;
  let kube: KubeClient;
  const ref = CORE('configmaps', 'default');

  /** The error a call fails with (a call that succeeds fails the test). */
  async function failure(p: Promise<unknown>): Promise<ApiError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof ApiError, `an ApiError, not ${String(err)}`);
      return err;
    }
    assert.fail('the call succeeded');
  }

  before(async () => {
    etcd = await startEtcd();
    api = await startAPIServer({ etcd });
    kube = new KubeClient({ server: api.url, ca: readFileSync(api.caFile, 'utf8'), token: ADMIN_TOKEN });
  });
  after(async () => {
    kube?.close();
    await api?.stop();
    await etcd?.stop();
  });

  it('is the same ApiError class the API server throws', () => {
    assert.equal(ApiError, ServerApiError);
  });

  it('carries the Status of a 404, 409 and 422, details included', async () => {
    const missing = await failure(kube.get(ref, 'absent'));
    assert.deepEqual([missing.code, missing.reason, missing.message], [404, 'NotFound', 'configmaps "absent" not found']);
    assert.deepEqual(missing.details, { name: 'absent', kind: 'configmaps' });
    assert.ok(isNotFound(missing) && !isConflict(missing));
    assert.equal(await kube.getOrUndefined(ref, 'absent'), undefined);

    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'default' }, data: { a: '1' } };
    const created = await kube.create(ref, cm);
    const dup = await failure(kube.create(ref, cm));
    assert.deepEqual([dup.code, dup.reason], [409, 'AlreadyExists']);
    assert.ok(isAlreadyExists(dup) && isConflict(dup));

    await kube.update(ref, { ...created, data: { a: '2' } });
    const stale = await failure(kube.update(ref, { ...created, data: { a: '3' } }));
    assert.deepEqual([stale.code, stale.reason], [409, 'Conflict']);
    assert.match(stale.message, /the object has been modified/);
    assert.ok(!isAlreadyExists(stale));

    const invalid = await failure(kube.create(ref, { ...cm, metadata: { name: 'Not_A_Name', namespace: 'default' } }));
    assert.deepEqual([invalid.code, invalid.reason], [422, 'Invalid']);
    assert.ok(invalid.details?.causes?.some((c) => c.field === 'metadata.name'), JSON.stringify(invalid.details));
  });

  it('a bad token is a 401, and getOrUndefined does not hide it', async () => {
    const stranger = new KubeClient({ server: api.url, ca: readFileSync(api.caFile, 'utf8'), token: 'not-a-token' });
    try {
      const e = await failure(stranger.getOrUndefined(ref, 'absent'));
      assert.deepEqual([e.code, e.reason], [401, 'Unauthorized']);
    } finally {
      stranger.close();
    }
  });

  it('no server is a 503 naming the request; a server that never answers is a 504 after the timeout', async () => {
    const [closed, hung] = await freePorts(2);
    const nobody = new KubeClient({ server: `https://127.0.0.1:${closed}`, insecure: true });
    const refused = await failure(nobody.get(ref, 'x'));
    nobody.close();
    assert.deepEqual([refused.code, refused.reason], [503, 'ServiceUnavailable']);
    assert.match(refused.message, /^GET \/api\/v1\/namespaces\/default\/configmaps\/x: .*ECONNREFUSED/);

    // Accepts connections and says nothing, like a server stuck behind a full disk.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => silent.listen(hung, '127.0.0.1', () => r()));
    const slow = new KubeClient({ server: `https://127.0.0.1:${hung}`, insecure: true }, 300);
    try {
      const timedOut = await failure(slow.get(ref, 'x'));
      assert.deepEqual([timedOut.code, timedOut.reason], [504, 'Timeout']);
      assert.match(timedOut.message, /no answer within 0.3s/);
    } finally {
      slow.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
