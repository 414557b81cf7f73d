/**
 * Benchmark: `etcd-ops snapshot status` against `etcdctl snapshot status` on a >= 512 MB snapshot,
 * and our sha256 trailer check against `sha256sum`, all measured in this run on the same file.
 *
 *   node --import tsx bench/snapshot-status.ts [--runs N] [--regenerate]
 *
 * The snapshot is generated once (a real etcd, ~150k values of 2-3 KiB written in transactions)
 * and cached under bench/.data/ (gitignored). Figures are printed, never asserted.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd, etcdctl, bins } from '../test/helpers/etcd.js';
import { humanizeBytes } from '../src/etcd/humanize.js';
import { etcdctlTable } from '../src/util/table.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'bench', '.data');
const snapPath = join(dataDir, 'status-512m.db');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;

const TARGET_BYTES = 512 * 1024 * 1024;

async function generate(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-bench-snap-'));
  const member = await startEtcd({
    dataDir: join(tmp, 'data'),
    extraArgs: ['--quota-backend-bytes', String(8 * 1024 ** 3), '--max-txn-ops', '1024', '--max-request-bytes', String(8 * 1024 * 1024), '--snapshot-count', '1000000'],
  });
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: member.clientURL });
  try {
    const started = Date.now();
    const perTxn = 100;
    let written = 0;
    let n = 0;
    // A little more than the target: bbolt's file is larger than the sum of values (page slack).
    const total = 160_000;
    const worker = async () => {
      while (n < total) {
        const base = n;
        n += perTxn;
        const ops = [];
        for (let i = base; i < Math.min(base + perTxn, total); i++) {
          const v = randomBytes(2048 + Math.floor(Math.random() * 1024));
          written += v.length;
          ops.push(client.put(`/registry/bench/ns-${i % 97}/obj-${String(i).padStart(7, '0')}`).value(v));
        }
        await client.if('/nonexistent', 'Version', '==', 0).then(...ops).commit();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    process.stderr.write(`generated ${total} values (${humanizeBytes(written)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const part = `${snapPath}.part`;
    etcdctl(member, ['snapshot', 'save', part]);
    renameSync(part, snapPath);
  } finally {
    client.close();
    await member.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const size = statSync(snapPath).size;
  if (size < TARGET_BYTES) process.stderr.write(`warning: snapshot is only ${humanizeBytes(size)}\n`);
}

interface Timed {
  ms: number;
  /** user + system CPU time: steadier than wall time on a busy machine. */
  cpuMs?: number;
  maxRssKiB?: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time -v (when present) for wall time and peak RSS. */
function timeCommand(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const useTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-v', cmd, ...cmdArgs], { encoding: 'utf8', env, maxBuffer: 1 << 26 })
    : spawnSync(cmd, cmdArgs, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed: ${r.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const cpuMs = user && sys ? (Number(user[1]) + Number(sys[1])) * 1000 : undefined;
  return { ms, cpuMs, maxRssKiB: rss ? Number(rss[1]) : undefined, stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

async function main(): Promise<void> {
  if (args.includes('--regenerate') || !existsSync(snapPath)) await generate();
  if (args.includes('--generate-only')) return;
  const { openSnapshot, snapshotStatus } = await import('../src/snapshot/index.js');
  const size = statSync(snapPath).size;
  process.stdout.write(`snapshot: ${snapPath} (${humanizeBytes(size)}, ${size} bytes), ${runs} runs each, median\n\n`);

  // Warm the page cache so every contender reads from memory.
  spawnSync('cat', [snapPath], { stdio: ['ignore', 'ignore', 'ignore'] });

  const cli = join(root, 'bin', 'etcd-ops.js');
  const env = { ...process.env, ETCDCTL_API: '3' };
  const samples: Record<string, { ms: number[]; cpu: number[]; rss: number[] }> = {};
  const add = (name: string, t: { ms: number; cpuMs?: number; maxRssKiB?: number }) => {
    samples[name] ??= { ms: [], cpu: [], rss: [] };
    samples[name].ms.push(t.ms);
    if (t.cpuMs !== undefined) samples[name].cpu.push(t.cpuMs);
    if (t.maxRssKiB !== undefined) samples[name].rss.push(t.maxRssKiB);
  };
  /** Wall and CPU time of an in-process call (CPU includes worker threads). */
  const inProcess = async (fn: () => unknown) => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    const c = process.cpuUsage(c0);
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (c.user + c.system) / 1000 };
  };

  let ctlOut = '';
  let ourOut = '';
  for (let i = 0; i < runs; i++) {
    const ctl = timeCommand(bins.etcdctl, ['snapshot', 'status', '-w', 'json', snapPath], env);
    ctlOut = ctl.stdout;
    add('etcdctl snapshot status', ctl);
    const ours = timeCommand(process.execPath, [cli, 'snapshot', 'status', '-w', 'json', snapPath]);
    ourOut = ours.stdout;
    add('etcd-ops snapshot status (CLI)', ours);
    const oursNoTrailer = timeCommand(process.execPath, [cli, 'snapshot', 'status', '--skip-hash-check', '-w', 'json', snapPath]);
    add('etcd-ops status --skip-hash-check (CLI)', oursNoTrailer);

    // The CLI's fixed cost (node + tsx + every command group), to read the CLI rows against.
    add('etcd-ops --version (CLI startup only)', timeCommand(process.execPath, [cli, '--version']));

    add('snapshotStatus() in-process (walk + sha256 worker)', await inProcess(() => snapshotStatus(snapPath)));
    add('openSnapshot().status() in-process', await inProcess(() => {
      const snap = openSnapshot(snapPath);
      try {
        snap.status();
      } finally {
        snap.close();
      }
    }));
    add('verifyTrailer() in-process', await inProcess(() => {
      const snap = openSnapshot(snapPath);
      try {
        snap.verifyTrailer();
      } finally {
        snap.close();
      }
    }));
    add('sha256sum', timeCommand('sha256sum', [snapPath]));
  }
  const same = ctlOut.trim() === ourOut.trim();

  const base = median(samples['etcdctl snapshot status'].ms);
  const cpuBase = median(samples['etcdctl snapshot status'].cpu);
  const shaBase = median(samples['sha256sum'].ms);
  const shaCpuBase = median(samples['sha256sum'].cpu);
  const ctlRss = median(samples['etcdctl snapshot status'].rss);
  const rows = Object.entries(samples).map(([name, s]) => {
    const sha = name.startsWith('verifyTrailer') || name === 'sha256sum';
    const ms = median(s.ms);
    const cpu = s.cpu.length ? median(s.cpu) : undefined;
    const rss = s.rss.length ? median(s.rss) : undefined;
    return [
      name,
      fmtMs(ms),
      `${(ms / (sha ? shaBase : base)).toFixed(2)}x`,
      cpu === undefined ? '-' : fmtMs(cpu),
      cpu === undefined ? '-' : `${(cpu / (sha ? shaCpuBase : cpuBase)).toFixed(2)}x`,
      rss === undefined ? '-' : `${(rss / 1024).toFixed(0)} MiB`,
      rss === undefined ? '-' : `${(rss / ctlRss).toFixed(2)}x`,
    ];
  });
  process.stdout.write('ratios: against etcdctl snapshot status, or against sha256sum for the sha256 rows\n');
  process.stdout.write(etcdctlTable(['CONTENDER', 'WALL (MEDIAN)', 'WALL RATIO', 'CPU (MEDIAN)', 'CPU RATIO', 'PEAK RSS', 'RSS VS ETCDCTL'], rows) + '\n');
  process.stdout.write(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs\n`);
  process.stdout.write(`\noutputs identical: ${same ? 'yes' : 'NO'}\n  etcdctl:  ${ctlOut.trim()}\n  etcd-ops: ${ourOut.trim()}\n`);
  process.stdout.write(`throughput (CLI, with trailer check): ${((size / 1e6) / (median(samples['etcd-ops snapshot status (CLI)'].ms) / 1000)).toFixed(0)} MB/s\n`);
}

await main();
