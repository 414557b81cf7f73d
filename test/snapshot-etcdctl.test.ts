import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startEtcd, etcdctl, type StartedEtcd } from './helpers/etcd.js';
import { etcdctlLarge, etcdctlStatus, etcdOps, txnPuts } from './helpers/snapshots.js';
import { openSnapshot, snapshotStatus } from '../src/snapshot/index.js';
import { formatStatus, writeValues, type StatusFormat } from '../src/cli/printers/snapshot.js';
import { tempDir } from './helpers/cleanup.js';

/**
 * `etcd-ops snapshot status` against `etcdctl snapshot status` (3.4) on snapshots of a real
 * member in many shapes; `snapshot get` against `etcdctl get` on the live member.
 */
describe('snapshot status/get vs etcdctl on real snapshots', { timeout: 120_000 }, () => {
  let dir: string;
  let member: StartedEtcd | undefined;
  const snaps: Record<string, string> = {};
  const live: Record<string, string> = {};
  let compactedAt = 0;
  let headRev = 0;

  const save = (name: string, extra: string[] = []) => {
    const file = join(dir, `${name}.db`);
    etcdctl(member!, [...extra, 'snapshot', 'save', file]);
    snaps[name] = file;
  };
  const rev = () => Number(/"revision":(\d+)/.exec(etcdctl(member!, ['get', 'nonexistent-key', '-w', 'json']))![1]);

  before(async () => {
    dir = tempDir('etcd-ops-snap-');
    member = await startEtcd({ dataDir: join(dir, 'data'), extraArgs: ['--max-txn-ops', '20000', '--max-request-bytes', String(8 << 20)] });
    save('empty');

    const lease = /lease ([0-9a-f]+) granted/.exec(etcdctl(member, ['lease', 'grant', '3600']))![1];
    etcdctl(member, ['put', '--lease', lease, '/leased/a', 'with-lease']);
    save('lease');

    for (const k of ['a', 'b', 'c']) etcdctl(member, ['put', `/del/${k}`, `v-${k}`]);
    etcdctl(member, ['del', '/del/a']);
    etcdctl(member, ['del', '--prefix', '/del/']);
    etcdctl(member, ['put', '/del/b', 'reborn']);
    save('tombstones');

    for (let i = 0; i < 3; i++) etcdctl(member, ['put', `/big/${i}`, String(i).repeat(100 * 1024)]);
    save('overflow');

    // 30k keys in three transactions: a tree with branch pages.
    for (let t = 0; t < 3; t++) {
      const entries: Array<[string, string]> = [];
      for (let i = 0; i < 10_000; i++) {
        const n = t * 10_000 + i;
        entries.push([`/registry/pods/ns-${n % 37}/pod-${String(n).padStart(6, '0')}`, `spec-${n}-${'x'.repeat(n % 50)}`]);
      }
      etcdctl(member, ['txn'], txnPuts(entries));
    }
    save('many');

    // History, then a physical compaction that drops most of it.
    for (let g = 0; g < 20; g++) etcdctl(member, ['txn'], txnPuts(Array.from({ length: 10 }, (_, i) => [`/hist/${i}`, `gen-${g}`])));
    compactedAt = rev() - 5;
    etcdctl(member, ['compact', String(compactedAt), '--physical']);
    etcdctl(member, ['put', '/hist/after', 'compaction']);
    headRev = rev();
    live.all = etcdctlLarge(member, ['get', '', '--from-key']);
    live.histJson = etcdctl(member, ['get', '/hist/', '--prefix', '-w', 'json']);
    live.histAtRev = etcdctl(member, ['get', '/hist/', '--prefix', '--rev', String(compactedAt + 2)]);
    live.lease = etcdctl(member, ['get', '/leased/a', '-w', 'json']);
    save('compacted');

    etcdctl(member, ['user', 'add', 'root', '--new-user-password', 'pw-root']);
    etcdctl(member, ['auth', 'enable']);
    save('auth', ['--user', 'root:pw-root']);

    await member.stop();
    member = undefined;
    snaps.raw = join(dir, 'raw.db');
    copyFileSync(join(dir, 'data', 'member', 'snap', 'db'), snaps.raw);
  });

  after(async () => {
    await member?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const formats: StatusFormat[] = ['simple', 'json', 'table'];

  it('matches etcdctl in every format on every snapshot (in-process)', async () => {
    for (const [name, file] of Object.entries(snaps)) {
      const { status, trailer } = await snapshotStatus(file);
      assert.equal(trailer.status, name === 'raw' ? 'absent' : 'ok', name);
      for (const f of formats) assert.equal(formatStatus(status, f), etcdctlStatus(file, f), `${name} -w ${f}`);
    }
  });

  it('has the shapes it claims: branch pages, overflow, tombstones, leases, compaction, auth', () => {
    const many = openSnapshot(snaps.many);
    try {
      const st = many.bucketStats('key');
      assert.ok(st.keys > 30_000, `key bucket has ${st.keys} records`);
      assert.ok(st.branchPages >= 2 && st.depth >= 3, `key bucket tree: ${JSON.stringify(st)}`);
    } finally {
      many.close();
    }
    const ov = openSnapshot(snaps.overflow);
    try {
      const big = [...ov.latest({ prefix: Buffer.from('/big/') }).values()];
      assert.deepEqual(big.map((kv) => kv.value.length), [102400, 102400, 102400]);
      assert.ok(ov.bucketStats('key').overflowPages >= 3 * 24);
      assert.equal(big[2].value.toString('latin1', 0, 3), '222');
    } finally {
      ov.close();
    }
    const ts = openSnapshot(snaps.tombstones);
    try {
      const tomb = [...ts.revisions()].filter((r) => r.tombstone).map((r) => r.kv.key.toString());
      assert.deepEqual(tomb, ['/del/a', '/del/b', '/del/c']);
      assert.deepEqual([...ts.latest({ prefix: Buffer.from('/del/') }).values()].map((kv) => `${kv.key}=${kv.value}`), ['/del/b=reborn']);
    } finally {
      ts.close();
    }
    const cp = openSnapshot(snaps.compacted);
    try {
      assert.equal(cp.compactedRevision(), BigInt(compactedAt));
      assert.equal(cp.headRevision(), BigInt(headRev));
      assert.throws(() => cp.latest({ rev: BigInt(compactedAt - 1) }), /has been compacted/);
    } finally {
      cp.close();
    }
    const au = openSnapshot(snaps.auth);
    try {
      assert.deepEqual([...au.entries('authUsers')].map((e) => e.key.toString()), ['root']);
      assert.ok([...au.entries('auth')].some((e) => e.key.toString() === 'authEnabled' && e.value?.[0] === 1));
    } finally {
      au.close();
    }
  });

  it('the CLI prints exactly what etcdctl prints', () => {
    for (const [name, f] of [['many', 'table'], ['raw', 'simple'], ['auth', 'json']] as const) {
      const r = etcdOps(['snapshot', 'status', '-w', f, snaps[name]]);
      assert.equal(r.stderr, '', `${name}: ${r.stderr}`);
      assert.equal(r.status, 0);
      assert.equal(r.stdout, etcdctlStatus(snaps[name], f), `${name} -w ${f}`);
    }
    // The raw db is larger than its high-water mark: TOTAL SIZE is not the file size.
    assert.ok(statSync(snaps.raw).size >= openSnapshot(snaps.raw).status().totalSize);
  });

  it('snapshot get returns what etcdctl get returned from the live member', async () => {
    const collect = async (q: Parameters<typeof writeValues>[1], format: 'simple' | 'json') => {
      const snap = openSnapshot(snaps.compacted);
      const chunks: Buffer[] = [];
      try {
        await writeValues(snap, q, format, (c) => void chunks.push(Buffer.from(c)));
      } finally {
        snap.close();
      }
      return Buffer.concat(chunks).toString();
    };
    assert.equal(await collect({ prefix: Buffer.alloc(0) }, 'simple'), live.all);
    assert.equal(await collect({ prefix: Buffer.from('/hist/'), rev: BigInt(compactedAt + 2) }, 'simple'), live.histAtRev);
    // JSON: etcd's header also has cluster/member ids and raft term, which a db file lacks.
    const stripHeader = (s: string) => JSON.stringify({ ...JSON.parse(s), header: undefined });
    const ours = await collect({ prefix: Buffer.from('/hist/') }, 'json');
    assert.equal(stripHeader(ours), stripHeader(live.histJson));
    assert.equal(JSON.parse(ours).header.revision, JSON.parse(live.histJson).header.revision);
    // Lease ids exceed 2^53: compare the raw JSON text, not parsed numbers.
    const lease = await collect({ key: Buffer.from('/leased/a') }, 'json');
    assert.equal(/"kvs":.*/.exec(lease)![0], /"kvs":.*/.exec(live.lease)![0]);

    const cli = etcdOps(['snapshot', 'get', snaps.compacted, '/hist/', '--prefix']);
    assert.equal(cli.status, 0, cli.stderr);
    // The (key, value) line pairs of the live listing whose key starts with /hist/.
    const lines = live.all.split('\n');
    let want = '';
    for (let i = 0; i + 1 < lines.length; i += 2) if (lines[i].startsWith('/hist/')) want += `${lines[i]}\n${lines[i + 1]}\n`;
    assert.equal(cli.stdout, want);
    const bad = etcdOps(['snapshot', 'get', snaps.compacted, '--rev', String(compactedAt - 5), '/hist/1']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /^etcd-ops: required revision \d+ has been compacted \(compacted at \d+\)\n$/);
  });
});
