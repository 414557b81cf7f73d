/**
 * Benchmark: `etcd-ops restore` of a 3-host control plane from a backup of >= 100 MB, until the
 * cluster is healthy with 3 voting members and every API server ready on a new revision, against
 * the bare sequence on the same snapshot: `etcdctl snapshot restore` for 3 members, then the 3
 * members started, until all are healthy; and the seed's own sequence done bare (one member
 * restored, the others added as learners and promoted, as the operator must). All in this run;
 * figures are printed, never asserted.
 *
 *   node --import tsx bench/restore.ts [--mb 100] [--runs 1] [--verbose]
 *
 * The restore's own step timings ("[N] done in Xs") say where the time beyond the bare sequence
 * goes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEtcdClient } from '../src/etcd/client.js';
import type { Connection } from '../src/etcd/endpoints.js';
import type { ClusterFile } from '../src/home/cluster-file.js';
import { homeEtcdTls } from '../src/cli/connection.js';
import { freePorts } from '../src/util/ports.js';
import { waitFor } from '../src/util/time.js';
import { humanizeBytes } from '../src/etcd/humanize.js';
import { etcdctlTable } from '../src/util/table.js';
import { bins } from '../test/helpers/etcd.js';
import { killByMarker, trackMarker, trackPid, untrackPid } from '../test/helpers/cleanup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'etcd-ops.js');
const args = process.argv.slice(2);
const opt = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const targetMb = opt('--mb', 100);
const runs = opt('--runs', 1);
const env = { ...process.env, ETCDCTL_API: '3' };

function run(cmd: string, a: string[], timeoutMs = 600_000): { ms: number; stdout: string; stderr: string } {
  const t0 = Date.now();
  const r = spawnSync(cmd, a, { encoding: 'utf8', env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  return { ms: Date.now() - t0, stdout: r.stdout, stderr: r.stderr };
}

/** ~targetMb of ConfigMap-shaped values, written straight to etcd (the API is not what is measured). */
async function fill(conn: Connection): Promise<void> {
  const client = createEtcdClient({ endpoints: conn.endpoints, tls: conn.tls, dialTimeoutMs: 5000, callTimeoutMs: 30_000, faults: 'patient' });
  try {
    const value = (i: number) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench', uid: `u-${i}` }, data: { payload: 'x'.repeat(100 * 1024) } });
    const count = Math.ceil((targetMb * 1e6) / (100 * 1024));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          await client.put(`/kubernetes.io/configmaps/bench/cm-${String(i).padStart(5, '0')}`).value(value(i));
        }
      }),
    );
  } finally {
    client.close();
  }
}

type Member = { name: string; client: string; peer: string; dir: string };

async function membersIn(tmp: string, prefix: string): Promise<Member[]> {
  const ports = await freePorts(6);
  return [0, 1, 2].map((i) => ({ name: `${prefix}${i}`, client: `http://127.0.0.1:${ports[i * 2]}`, peer: `http://127.0.0.1:${ports[i * 2 + 1]}`, dir: join(tmp, `${prefix}-${i}`) }));
}

/** Starts a member on its data dir, logging beside it; tracked so an aborted run kills it. */
function startMember(m: Member, initial: string, token: string, state: 'new' | 'existing' = 'new'): ReturnType<typeof spawn> {
  const log = openSync(`${m.dir}.log`, 'a');
  const p = spawn(bins.etcd, ['--name', m.name, '--data-dir', m.dir, '--listen-client-urls', m.client, '--advertise-client-urls', m.client, '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', initial, '--initial-cluster-state', state, '--initial-cluster-token', token, '--quota-backend-bytes', String(8 * 1024 ** 3)], { stdio: ['ignore', log, log] });
  closeSync(log);
  trackPid(p.pid!);
  return p;
}

/** Until every member answers `endpoint health`; on time-out, says what each member logged. */
async function waitHealthy(what: string, members: Member[]): Promise<void> {
  try {
    await waitFor(what, 300_000, () => (spawnSync(bins.etcdctl, ['--endpoints', members.map((m) => m.client).join(','), '--command-timeout', '2s', 'endpoint', 'health'], { env }).status === 0 ? true : undefined), 100);
  } catch (err) {
    const tails = members.map((m) => `${m.name}: ${readFileSync(`${m.dir}.log`, 'utf8').trimEnd().split('\n').slice(-5).join('\n  ')}`);
    throw new Error(`${(err as Error).message}\n${tails.join('\n')}`);
  }
}

function stopMembers(procs: ReturnType<typeof spawn>[], members: Member[]): void {
  for (const p of procs) {
    p.kill('SIGKILL');
    untrackPid(p.pid!);
  }
  for (const m of members) rmSync(m.dir, { recursive: true, force: true });
}

/** The bare sequence: etcdctl snapshot restore for three members, start them, wait for health. */
async function bare(snapshot: string, tmp: string): Promise<{ restoreMs: number; startMs: number; totalMs: number }> {
  const members = await membersIn(tmp, 'bare');
  const initial = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const t0 = Date.now();
  for (const m of members) {
    run(bins.etcdctl, ['snapshot', 'restore', snapshot, '--data-dir', m.dir, '--name', m.name, '--initial-cluster', initial, '--initial-cluster-token', 'bare', '--initial-advertise-peer-urls', m.peer]);
  }
  const restoreMs = Date.now() - t0;
  const procs = members.map((m) => startMember(m, initial, 'bare'));
  try {
    await waitHealthy('the bare cluster to be healthy', members);
    const totalMs = Date.now() - t0;
    return { restoreMs, startMs: totalMs - restoreMs, totalMs };
  } finally {
    stopMembers(procs, members);
  }
}

/**
 * The floor of the seed's own procedure, bare: one member restored from the snapshot and started,
 * then each other member added as a learner with etcdctl, started with an empty data dir, and
 * promoted once it has caught up, one at a time (what cluster-etcd-operator does, and so what
 * etcd-ops restore must do). No API server, no revisions.
 */
async function seedFloor(snapshot: string, tmp: string): Promise<{ totalMs: number; joinMs: number }> {
  const members = await membersIn(tmp, 'seed');
  const procs: ReturnType<typeof spawn>[] = [];
  const ctl = (a: string[]) => spawnSync(bins.etcdctl, ['--endpoints', members[0]!.client, '--command-timeout', '5s', ...a], { env, encoding: 'utf8' });
  const t0 = Date.now();
  try {
    const first = members[0]!;
    let initial = `${first.name}=${first.peer}`;
    run(bins.etcdctl, ['snapshot', 'restore', snapshot, '--data-dir', first.dir, '--name', first.name, '--initial-cluster', initial, '--initial-cluster-token', 'seed', '--initial-advertise-peer-urls', first.peer]);
    procs.push(startMember(first, initial, 'seed'));
    await waitHealthy('the restored member to be healthy', [first]);
    const joined = Date.now();
    for (const m of members.slice(1)) {
      // Right after a promotion etcd refuses a new member ("unhealthy cluster") until the promoted
      // one has been connected long enough: the operator waits for that too.
      let refused = '';
      const add = await waitFor(`etcd to accept ${m.name} as a learner`, 120_000, () => {
        const r = ctl(['member', 'add', m.name, '--learner', '--peer-urls', m.peer, '-w', 'json']);
        refused = r.stderr;
        return r.status === 0 ? r : undefined;
      }, 100).catch((err: Error) => {
        throw new Error(`${err.message}: ${refused.trim().split('\n').pop()}`);
      });
      // Member IDs are uint64: read them as text, JSON.parse would round them.
      const id = BigInt(/"member":\{"ID":(\d+)/.exec(add.stdout)?.[1] ?? '0').toString(16);
      initial = `${initial},${m.name}=${m.peer}`;
      procs.push(startMember(m, initial, 'seed', 'existing'));
      await waitFor(`${m.name} to catch up and be promoted`, 300_000, () => (ctl(['member', 'promote', id]).status === 0 ? true : undefined), 100);
    }
    await waitHealthy('three healthy voting members', members);
    return { totalMs: Date.now() - t0, joinMs: Date.now() - joined };
  } finally {
    stopMembers(procs, members);
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-bench-restore-'));
  const home = join(tmp, 'home');
  trackMarker(home);
  try {
    run(process.execPath, [cli, 'up', '--home', home, '--hosts', '3'], 180_000);
    const cluster = JSON.parse(readFileSync(join(home, 'cluster.json'), 'utf8')) as ClusterFile;
    const t0 = Date.now();
    await fill({ endpoints: cluster.hosts.map((h) => h.clientURL), tls: homeEtcdTls(home, cluster), commandTimeoutMs: 30_000, dialTimeoutMs: 5000 });
    const fillMs = Date.now() - t0;
    const backupDir = join(tmp, 'backup');
    await waitFor('a backup', 300_000, () => (spawnSync(process.execPath, [cli, 'backup', backupDir, '--home', home], { env }).status === 0 ? true : undefined), 2000);
    const snapshot = join(backupDir, readdirSync(backupDir).find((n) => n.endsWith('.db'))!);
    const size = statSync(snapshot).size;
    process.stdout.write(`backup: ${humanizeBytes(size)} (${size} bytes), filled in ${(fillMs / 1000).toFixed(1)} s; ${runs} run(s); ${cpus().length} CPUs\n\n`);

    const rows: string[][] = [];
    const steps = new Map<string, number[]>();
    const bares: number[] = [];
    const floors: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < runs; i++) {
      const b = await bare(snapshot, tmp);
      bares.push(b.totalMs);
      rows.push([`bare sequence, run ${i + 1}`, `${(b.totalMs / 1000).toFixed(2)} s`, `etcdctl snapshot restore x3 ${(b.restoreMs / 1000).toFixed(2)} s + start until healthy ${(b.startMs / 1000).toFixed(2)} s`]);
      const f = await seedFloor(snapshot, tmp);
      floors.push(f.totalMs);
      rows.push([`seed's sequence bare, run ${i + 1}`, `${(f.totalMs / 1000).toFixed(2)} s`, `1 member restored, then 2 learners added, caught up, promoted: ${(f.joinMs / 1000).toFixed(2)} s of it`]);
      const r = run(process.execPath, [cli, 'restore', backupDir, '--yes', '--home', home, '--timeout', '10m'], 900_000);
      ours.push(r.ms);
      if (args.includes('--verbose')) process.stdout.write(r.stdout);
      const titles = new Map<string, string>();
      for (const m of r.stdout.matchAll(/^\[(\d+)\/\d+\] (.*)$/gm)) titles.set(m[1]!, m[2]!.replace(/\s*\(.*$/, '').slice(0, 70));
      for (const m of r.stdout.matchAll(/^\[(\d+)\] done in ([\d.]+)s$/gm)) {
        const name = `${m[1]}. ${titles.get(m[1]!) ?? ''}`;
        steps.set(name, [...(steps.get(name) ?? []), Number(m[2]) * 1000]);
      }
      rows.push([`etcd-ops restore, run ${i + 1}`, `${(r.ms / 1000).toFixed(2)} s`, `${(r.ms / b.totalMs).toFixed(2)}x the bare sequence, ${(r.ms / f.totalMs).toFixed(2)}x the seed's bare sequence`]);
    }
    process.stdout.write(`${etcdctlTable(['CONTENDER', 'WALL', 'NOTE'], rows)}\n`);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    process.stdout.write(`\netcd-ops restore / bare sequence (median): ${(med(ours) / med(bares)).toFixed(2)}x (target <= 1.5x)\n`);
    process.stdout.write(`etcd-ops restore / the seed's sequence bare (median): ${(med(ours) / med(floors)).toFixed(2)}x; the seed's sequence bare / bare sequence: ${(med(floors) / med(bares)).toFixed(2)}x\n`);
    process.stdout.write('\nwhere etcd-ops restore spends its time (median per step; the CLI itself starts in about 0.3 s):\n');
    process.stdout.write(`${etcdctlTable(['STEP', 'SECONDS'], [...steps].map(([name, ms]) => [name, (med(ms) / 1000).toFixed(2)]))}\n`);
    process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  } finally {
    killByMarker(home);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
