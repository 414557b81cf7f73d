/**
 * Benchmark: `etcd-ops restore` of a 3-host control plane from a backup of >= 100 MB, until the
 * cluster is healthy with 3 voting members and every API server ready on a new revision, against
 * the bare sequence on the same snapshot: `etcdctl snapshot restore` for 3 members, then the 3
 * members started, until all are healthy. Both in this run; figures are printed, never asserted.
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

/** The bare sequence: etcdctl snapshot restore for three members, start them, wait for health. */
async function bare(snapshot: string, tmp: string): Promise<{ restoreMs: number; startMs: number; totalMs: number }> {
  const ports = await freePorts(6);
  const members = [0, 1, 2].map((i) => ({ name: `m${i}`, client: `http://127.0.0.1:${ports[i * 2]}`, peer: `http://127.0.0.1:${ports[i * 2 + 1]}`, dir: join(tmp, `bare-m${i}`) }));
  const initial = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const t0 = Date.now();
  for (const m of members) {
    run(bins.etcdctl, ['snapshot', 'restore', snapshot, '--data-dir', m.dir, '--name', m.name, '--initial-cluster', initial, '--initial-cluster-token', 'bare', '--initial-advertise-peer-urls', m.peer]);
  }
  const restoreMs = Date.now() - t0;
  const procs = members.map((m) => {
    const log = openSync(`${m.dir}.log`, 'a');
    const p = spawn(bins.etcd, ['--name', m.name, '--data-dir', m.dir, '--listen-client-urls', m.client, '--advertise-client-urls', m.client, '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', initial, '--initial-cluster-token', 'bare', '--quota-backend-bytes', String(8 * 1024 ** 3)], { stdio: ['ignore', log, log] });
    closeSync(log);
    trackPid(p.pid!);
    return p;
  });
  try {
    await waitFor('the bare cluster to be healthy', 300_000, () => (spawnSync(bins.etcdctl, ['--endpoints', members.map((m) => m.client).join(','), '--command-timeout', '2s', 'endpoint', 'health'], { env }).status === 0 ? true : undefined), 100);
    const totalMs = Date.now() - t0;
    return { restoreMs, startMs: totalMs - restoreMs, totalMs };
  } finally {
    for (const p of procs) {
      p.kill('SIGKILL');
      untrackPid(p.pid!);
    }
    for (const m of members) rmSync(m.dir, { recursive: true, force: true });
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
    const ours: number[] = [];
    for (let i = 0; i < runs; i++) {
      const b = await bare(snapshot, tmp);
      bares.push(b.totalMs);
      rows.push([`bare sequence, run ${i + 1}`, `${(b.totalMs / 1000).toFixed(2)} s`, `etcdctl snapshot restore x3 ${(b.restoreMs / 1000).toFixed(2)} s + start until healthy ${(b.startMs / 1000).toFixed(2)} s`]);
      const r = run(process.execPath, [cli, 'restore', backupDir, '--yes', '--home', home, '--timeout', '10m'], 900_000);
      ours.push(r.ms);
      if (args.includes('--verbose')) process.stdout.write(r.stdout);
      const titles = new Map<string, string>();
      for (const m of r.stdout.matchAll(/^\[(\d+)\/\d+\] (.*)$/gm)) titles.set(m[1]!, m[2]!.replace(/\s*\(.*$/, '').slice(0, 70));
      for (const m of r.stdout.matchAll(/^\[(\d+)\] done in ([\d.]+)s$/gm)) {
        const name = `${m[1]}. ${titles.get(m[1]!) ?? ''}`;
        steps.set(name, [...(steps.get(name) ?? []), Number(m[2]) * 1000]);
      }
      rows.push([`etcd-ops restore, run ${i + 1}`, `${(r.ms / 1000).toFixed(2)} s`, `${(r.ms / b.totalMs).toFixed(2)}x the bare sequence of this run`]);
    }
    process.stdout.write(`${etcdctlTable(['CONTENDER', 'WALL', 'NOTE'], rows)}\n`);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    process.stdout.write(`\netcd-ops restore / bare sequence (median): ${(med(ours) / med(bares)).toFixed(2)}x (target <= 1.5x)\n`);
    process.stdout.write('\nwhere etcd-ops restore spends its time (median per step; the CLI itself starts in about 0.3 s):\n');
    process.stdout.write(`${etcdctlTable(['STEP', 'SECONDS'], [...steps].map(([name, ms]) => [name, (med(ms) / 1000).toFixed(2)]))}\n`);
    process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  } finally {
    killByMarker(home);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
