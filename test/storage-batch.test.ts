/**
 * The store's etcd round trips against a real etcd: concurrent single-key reads share one
 * transaction (and still return each caller its own key), large answers fit, a small
 * --max-txn-ops falls back to plain reads, and a create guarded on another key (its namespace)
 * fails apart from "already exists" when that key moved.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Etcd3 } from 'etcd3';
import { startEtcd, type StartedEtcd } from './helpers/etcd.js';
import { createEtcdClient } from '../src/etcd/client.js';
import { Store } from '../src/storage/store.js';
import { StorageError } from '../src/storage/errors.js';

const plain = { fromStorage: (b: Buffer) => ({ data: b, stale: false }), toStorage: (b: Buffer) => b };

/** KV calls etcd has answered, from its own metrics. */
async function kvCalls(etcd: StartedEtcd): Promise<number> {
  const text = await (await fetch(`${etcd.clientURL}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_handled_total{') && line.includes('grpc_service="etcdserverpb.KV"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

describe('storage: batched reads and guarded creates', { timeout: 60_000 }, () => {
  let etcd: StartedEtcd;
  let small: StartedEtcd;
  let client: Etcd3;
  let smallClient: Etcd3;
  let store: Store;

  before(async () => {
    [etcd, small] = await Promise.all([startEtcd(), startEtcd({ extraArgs: ['--max-txn-ops', '4'] })]);
    client = createEtcdClient({ endpoints: [etcd.clientURL], dialTimeoutMs: 5000, callTimeoutMs: 5000, faults: 'retry-once' });
    smallClient = createEtcdClient({ endpoints: [small.clientURL], dialTimeoutMs: 5000, callTimeoutMs: 5000, faults: 'retry-once' });
    store = new Store(client, () => plain, { timeoutMs: 5000 });
  });
  after(async () => {
    client?.close();
    smallClient?.close();
    await Promise.all([etcd?.stop(), small?.stop()]);
  });

  it('concurrent gets share one etcd call and each gets its own key (or undefined)', async () => {
    for (let i = 0; i < 30; i++) await client.put(`/t/k-${i}`).value(`{"i":${i}}`);
    await store.getRaw('/t/k-0'); // connect first: only the batch below is counted
    const before = await kvCalls(etcd);
    const keys = [...Array.from({ length: 30 }, (_, i) => `/t/k-${i}`), '/t/absent', '/t/k-7'];
    const got = await Promise.all(keys.map((k) => store.getRaw(k)));
    const calls = (await kvCalls(etcd)) - before;
    assert.ok(calls <= 2, `${keys.length} reads took ${calls} etcd calls`);
    keys.forEach((k, i) => {
      if (k === '/t/absent') assert.equal(got[i], undefined);
      else assert.equal(got[i]?.value.toString(), `{"i":${Number(k.slice(5))}}`, k);
    });
    assert.equal(got[31]?.modRevision, got[7]?.modRevision);
  });

  it('answers over 4 MiB: six 1 MB values read together, and listed', async () => {
    const big = JSON.stringify({ metadata: {}, data: 'x'.repeat(1_000_000) });
    for (let i = 0; i < 6; i++) await client.put(`/big/v-${i}`).value(big);
    const got = await Promise.all(Array.from({ length: 6 }, (_, i) => store.get(`/big/v-${i}`, 'secrets')));
    assert.deepEqual(got.map((d) => d?.plain.length), Array(6).fill(big.length));
    const page = await store.list('/big/', 'secrets');
    assert.equal(page.items.length, 6);
  });

  it('an etcd with --max-txn-ops 4 still answers ten concurrent reads', async () => {
    const s = new Store(smallClient, () => plain, { timeoutMs: 5000 });
    for (let i = 0; i < 10; i++) await smallClient.put(`/s/k-${i}`).value(`v${i}`);
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(Array.from({ length: 10 }, (_, i) => s.getRaw(`/s/k-${i}`)));
      assert.deepEqual(got.map((kv) => kv?.value.toString()), Array.from({ length: 10 }, (_, i) => `v${i}`));
    }
  });

  it('a create guarded on a namespace key: PreconditionFailed when it moved, AlreadyExists when only the object exists', async () => {
    await client.put('/ns/a').value('{"metadata":{"name":"a"}}');
    const ns = await store.getRaw('/ns/a');
    const guard = { key: '/ns/a', modRevision: ns!.modRevision };
    const d = await store.create('/obj/a/x', 'secrets', { metadata: { name: 'x' } }, guard);
    assert.ok(d.modRevision > guard.modRevision);
    await assert.rejects(store.create('/obj/a/x', 'secrets', { metadata: { name: 'x' } }, guard), (e: unknown) => e instanceof StorageError && e.code === 'AlreadyExists');
    await client.put('/ns/a').value('{"metadata":{"name":"a"},"status":{"phase":"Terminating"}}');
    await assert.rejects(store.create('/obj/a/y', 'secrets', { metadata: { name: 'y' } }, guard), (e: unknown) => e instanceof StorageError && e.code === 'PreconditionFailed' && e.key === '/ns/a');
    assert.equal(await store.getRaw('/obj/a/y'), undefined, 'nothing written');
    await client.delete().key('/ns/a');
    await assert.rejects(store.create('/obj/a/z', 'secrets', { metadata: { name: 'z' } }, guard), (e: unknown) => e instanceof StorageError && e.code === 'PreconditionFailed');
  });
  it('concurrent creates and updates share etcd calls, and each gets exactly its own outcome', async () => {
    await store.create('/w/warm', 'configmaps', { kind: 'ConfigMap', metadata: { name: 'warm' } });
    const before = await kvCalls(etcd);
    const creates = Array.from({ length: 40 }, (_, i) => store.create(`/w/c-${i}`, 'configmaps', { kind: 'ConfigMap', metadata: { name: `c-${i}` } }));
    // An existing key in the same turn: its create fails alone.
    const dup = store.create('/w/warm', 'configmaps', { kind: 'ConfigMap', metadata: { name: 'warm' } }).then(
      () => 'created',
      (err: unknown) => (err instanceof StorageError ? err.code : String(err)),
    );
    const made = await Promise.all(creates);
    assert.equal(await dup, 'AlreadyExists');
    const calls = (await kvCalls(etcd)) - before;
    assert.ok(calls <= 4, `41 writes took ${calls} etcd calls`);
    for (const [i, d] of made.entries()) assert.equal(JSON.parse((await client.get(`/w/c-${i}`).string())!).metadata.name, `c-${i}`, d.key);
    // Two updates of one key in one turn never share a transaction: both apply, one after the other.
    const bump = (v: string) => store.guaranteedUpdate('/w/c-0', 'configmaps', (cur) => ({ action: 'update', obj: { ...cur!.obj, data: { ...(cur!.obj.data ?? {}), [v]: v } } }));
    await Promise.all([bump('a'), bump('b')]);
    const final = JSON.parse((await client.get('/w/c-0').string())!);
    assert.deepEqual(Object.keys(final.data).sort(), ['a', 'b']);
  });

  it('the bulk rewrite: stale values re-encrypted under a compare-and-swap each, raced ones left alone, batches halved until etcd takes them', async () => {
    // "old:" values are stale (read by an older key); writes carry "new:".
    const rotating = {
      fromStorage: (b: Buffer) => ({ data: b.subarray(4), stale: b.subarray(0, 4).toString() === 'old:' }),
      toStorage: (b: Buffer) => Buffer.concat([Buffer.from('new:'), b]),
    };
    const seen: string[] = [];
    // --max-txn-ops 4: the first batch of ten is refused, and halves until it passes.
    const s = new Store(smallClient, () => rotating, { timeoutMs: 5000, onTransform: (dir, _p, ok) => seen.push(`${dir}:${ok}`) });
    for (let i = 0; i < 10; i++) await smallClient.put(`/r/k-${i}`).value(`old:v${i}`);
    await smallClient.put('/r/k-fresh').value('new:f');
    const page = await s.rangePage('/r/', '/r/', 100);
    assert.equal(page.kvs.length, 11);
    await smallClient.put('/r/k-3').value('new:written-meanwhile'); // an API server got there first
    const r = await s.rewriteStale('secrets', page.kvs);
    assert.deepEqual(r, { rewritten: 9, fresh: 1, raced: 1 });
    for (let i = 0; i < 10; i++) assert.equal(await smallClient.get(`/r/k-${i}`).string(), i === 3 ? 'new:written-meanwhile' : `new:v${i}`);
    assert.equal(seen.filter((x) => x === 'from_storage:true').length, 11);
    assert.equal(seen.filter((x) => x === 'to_storage:true').length, 10);
    // A page asked for in pieces: the limit and the continue key are honoured.
    const first = await s.rangePage('/r/', '/r/', 4);
    assert.deepEqual([first.kvs.length, first.more], [4, true]);
  });
});
