/**
 * Benchmark: the snapshot phase of `etcd-ops backup` against `etcdctl snapshot save`, from the
 * same member holding a >= 512 MB database, measured in this run, runs interleaved.
 *
 *   node --import tsx bench/backup.ts [--runs N]
 *
 * The member is restored (etcdctl snapshot restore) from bench/.data/status-512m.db, which
 * bench/snapshot-status.ts generates and caches; run that first if it is missing. Also timed:
 * the whole `etcd-ops backup` CLI (snapshot, verification, archive) against what
 * cluster-backup.sh runs (etcdctl snapshot save, then etcdctl snapshot status -w json).
 * Figures are printed, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bins } from '../test/helpers/etcd.js';
import { trackPid, untrackPid } from '../test/helpers/cleanup.js';
import { waitFor } from '../src/util/time.js';
import { freePorts } from '../src/util/ports.js';
import { humanizeBytes } from '../src/etcd/humanize.js';
import { etcdctlTable } from '../src/util/table.js';
import { downloadSnapshot } from '../src/backup/run.js';
import { RunFiles } from '../src/backup/files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'bench', '.data', 'status-512m.db');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
const env = { ...process.env, ETCDCTL_API: '3' };

interface Sample {
  ms: number;
  cpuMs?: number;
  bytes: number;
}

/** Wall time and the client's CPU (user + sys, from /usr/bin/time) of a command. */
function timed(cmd: string, cmdArgs: string[]): { ms: number; cpuMs?: number; stdout: string } {
  const useTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = useTime ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...cmdArgs], { encoding: 'utf8', env }) : spawnSync(cmd, cmdArgs, { encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed: ${r.stderr}`);
  const cpu = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  return { ms, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : undefined, stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The restored member on free loopback ports. Opening a 600 MB backend and rebuilding its index
 * takes a while on a busy host, so this waits longer than the test helper does.
 */
async function startMember(dataDir: string) {
  const [client, peer] = await freePorts(2);
  const clientURL = `http://127.0.0.1:${client}`;
  const peerURL = `http://127.0.0.1:${peer}`;
  const log = openSync(`${dataDir}.log`, 'a');
  const proc = spawn(bins.etcd, ['--name', 'bench', '--data-dir', dataDir, '--listen-client-urls', clientURL, '--advertise-client-urls', clientURL, '--listen-peer-urls', peerURL, '--initial-advertise-peer-urls', peerURL, '--initial-cluster', `bench=${peerURL}`, '--quota-backend-bytes', String(8 * 1024 ** 3)], { stdio: ['ignore', log, log] });
  closeSync(log);
  trackPid(proc.pid!);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    untrackPid(proc.pid!);
  };
  try {
    await waitFor(`etcd at ${clientURL} (log ${dataDir}.log)`, 180_000, () => {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}`);
      return spawnSync(bins.etcdctl, ['--endpoints', clientURL, '--command-timeout', '2s', 'endpoint', 'health'], { env }).status === 0 ? true : undefined;
    }, 500);
  } catch (err) {
    await stop();
    throw err;
  }
  return { clientURL, stop };
}

async function main(): Promise<void> {
  if (!existsSync(source)) {
    process.stderr.write(`${source} is missing: run \`node --import tsx bench/snapshot-status.ts --generate-only\` first (it builds the >= 512 MB database)\n`);
    process.exit(1);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-bench-backup-'));
  const dataDir = join(tmp, 'data');
  // A one-member cluster: the member starts from the restored data dir under the same name.
  const restore = spawnSync(bins.etcdctl, ['snapshot', 'restore', source, '--data-dir', dataDir, '--name', 'bench', '--initial-cluster', 'bench=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'], { encoding: 'utf8', env });
  if (restore.status !== 0) throw new Error(`etcdctl snapshot restore failed: ${restore.stderr}`);
  const out = join(tmp, 'out');
  let member: Awaited<ReturnType<typeof startMember>>;
  try {
    member = await startMember(dataDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const samples: Record<string, Sample[]> = {};
  const add = (name: string, s: Sample) => (samples[name] ??= []).push(s);
  let status: { dbSize: number; header: { revision: number } };
  try {
    status = JSON.parse(timed(bins.etcdctl, ['--endpoints', member.clientURL, 'endpoint', 'status', '-w', 'json']).stdout)[0].Status;
    process.stdout.write(`member: ${member.clientURL}, db ${humanizeBytes(status.dbSize)} (${status.dbSize} bytes), revision ${status.header.revision}; ${runs} runs each, interleaved, median\n\n`);
    const conn = { endpoints: [member.clientURL], commandTimeoutMs: 10_000, dialTimeoutMs: 5000 };
    const ctlSave = (i: number | string): Sample => {
      const file = join(tmp, `ctl-${i}.db`);
      const t = timed(bins.etcdctl, ['--endpoints', member.clientURL, 'snapshot', 'save', file]);
      const bytes = statSync(file).size;
      rmSync(file);
      return { ...t, bytes };
    };
    const oursSave = async (i: number | string): Promise<Sample> => {
      const file = join(tmp, `ours-${i}.db.part`);
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      // The snapshot phase of etcd-ops backup: the same function, in this process.
      const bytes = await downloadSnapshot({ endpoint: member.clientURL, conn, files: new RunFiles(), path: file, expectedBytes: Number(status.dbSize) + 32 });
      const c = process.cpuUsage(c0);
      rmSync(file);
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (c.user + c.system) / 1000, bytes };
    };
    // Warm-up, not counted: the member's file in the page cache, our code compiled.
    ctlSave('warm');
    await oursSave('warm');
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first, so neither always meets the same background load.
      if (i % 2 === 0) {
        add('etcdctl snapshot save', ctlSave(i));
        add('etcd-ops backup: snapshot phase', await oursSave(i));
      } else {
        add('etcd-ops backup: snapshot phase', await oursSave(i));
        add('etcdctl snapshot save', ctlSave(i));
      }

      // End to end: what cluster-backup.sh runs, and the whole etcd-ops backup command.
      const scriptFile = join(tmp, `script-${i}.db`);
      const save = timed(bins.etcdctl, ['--endpoints', member.clientURL, 'snapshot', 'save', scriptFile]);
      const check = timed(bins.etcdctl, ['snapshot', 'status', '-w', 'json', scriptFile]);
      add('cluster-backup.sh steps (save + status -w json)', { ms: save.ms + check.ms, cpuMs: (save.cpuMs ?? 0) + (check.cpuMs ?? 0), bytes: statSync(scriptFile).size });
      rmSync(scriptFile);
      const cli = timed(process.execPath, [join(root, 'bin', 'etcd-ops.js'), 'backup', out, '--endpoints', member.clientURL]);
      const db = readdirSync(out).find((n) => n.endsWith('.db'))!;
      add('etcd-ops backup (CLI: snapshot + verify + archive)', { ...cli, bytes: statSync(join(out, db)).size });
      rmSync(out, { recursive: true });
      // Backups are named by the second.
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await member.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const rate = (s: Sample) => s.bytes / 1e6 / (s.ms / 1000);
  const base = median(samples['etcdctl snapshot save']!.map(rate));
  const e2eBase = median(samples['cluster-backup.sh steps (save + status -w json)']!.map((s) => s.ms));
  const rows = Object.entries(samples).map(([name, ss]) => {
    const ms = median(ss.map((s) => s.ms));
    const cpu = ss.every((s) => s.cpuMs !== undefined) ? median(ss.map((s) => s.cpuMs!)) : undefined;
    const mbs = median(ss.map(rate));
    const e2e = name.includes('CLI') || name.includes('cluster-backup');
    return [name, `${(ms / 1000).toFixed(2)} s`, `${mbs.toFixed(0)} MB/s`, e2e ? `${(e2eBase / ms).toFixed(2)}x` : `${(mbs / base).toFixed(2)}x`, cpu === undefined ? '-' : `${(cpu / 1000).toFixed(2)} s`, ss.map((s) => rate(s).toFixed(0)).join(' ')];
  });
  process.stdout.write('throughput ratio: against etcdctl snapshot save (snapshot rows) or against the cluster-backup.sh steps (end-to-end rows); higher is better\n');
  process.stdout.write(`${etcdctlTable(['CONTENDER', 'WALL (MEDIAN)', 'THROUGHPUT', 'RATIO', 'CLIENT CPU', 'MB/S PER RUN'], rows)}\n`);
  const ours = median(samples['etcd-ops backup: snapshot phase']!.map(rate));
  // Each run's two snapshots are taken back to back: their ratio cancels slow drifts in load.
  const paired = samples['etcd-ops backup: snapshot phase']!.map((s, i) => rate(s) / rate(samples['etcdctl snapshot save']![i]!));
  process.stdout.write(`\nsnapshot phase: etcd-ops ${ours.toFixed(0)} MB/s vs etcdctl ${base.toFixed(0)} MB/s = ${(ours / base).toFixed(2)}x (target >= 0.95x)\n`);
  process.stdout.write(`paired per run (etcd-ops / etcdctl): ${paired.map((x) => x.toFixed(2)).join(' ')}; median ${median(paired).toFixed(2)}x\n`);
  const cpuOf = (name: string) => median(samples[name]!.map((s) => s.cpuMs ?? NaN));
  process.stdout.write(`client CPU per GB: etcd-ops ${(cpuOf('etcd-ops backup: snapshot phase') / (Number(status.dbSize) / 1e9) / 1000).toFixed(2)} s, etcdctl ${(cpuOf('etcdctl snapshot save') / (Number(status.dbSize) / 1e9) / 1000).toFixed(2)} s\n`);
  process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs\n`);
}

await main();
