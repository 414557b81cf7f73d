/**
 * Benchmark: rewriting a ~200 MB etcd db with the TypeScript bbolt writer (what
 * `etcd-ops snapshot restore --bump-revision N --mark-compacted` adds to a restore) against
 * `etcdctl snapshot restore` of the same file, measured in this run, runs interleaved.
 *
 *   node --import tsx bench/snapshot-write.ts [--runs N] [--mb SIZE] [--regenerate]
 *
 * Contenders, each a separate process under /usr/bin/time -v (wall, CPU, peak RSS):
 *   etcdctl snapshot restore           the baseline (copy, sha256, bbolt txn, WAL)
 *   rewrite (bbolt writer)             read the snapshot, write a fresh db with the bump
 *   etcd-ops snapshot restore --bump   the whole command: etcdctl restore + rewrite + move
 * The snapshot comes from a real etcd (values of 2-3 KiB written in transactions) and is
 * cached under bench/.data/ (gitignored). --mb 1024 makes a ~1 GB one, for memory figures.
 * Figures are printed, never asserted.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEtcd, etcdctl, bins } from '../test/helpers/etcd.js';
import { humanizeBytes } from '../src/etcd/humanize.js';
import { etcdctlTable } from '../src/util/table.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, 'bench', '.data');
const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const runs = Number(opt('--runs')) || 3;
const mb = Number(opt('--mb')) || 200;
const snapPath = join(dataDir, `write-${mb}m.db`);
const BUMP = '1000000000';

async function generate(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-bench-write-'));
  const member = await startEtcd({
    dataDir: join(tmp, 'data'),
    extraArgs: ['--quota-backend-bytes', String(8 * 1024 ** 3), '--max-txn-ops', '1024', '--max-request-bytes', String(8 * 1024 * 1024), '--snapshot-count', '1000000'],
  });
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: member.clientURL });
  try {
    const started = Date.now();
    const perTxn = 100;
    // ~2.5 KiB a value; two of them fill a leaf and its overflow page, ~4.1 kB of file each.
    const total = Math.ceil((mb * 1e6) / 4100);
    let n = 0;
    const worker = async () => {
      while (n < total) {
        const base = n;
        n += perTxn;
        const ops = [];
        for (let i = base; i < Math.min(base + perTxn, total); i++) {
          ops.push(client.put(`/registry/bench/ns-${i % 97}/obj-${String(i).padStart(7, '0')}`).value(randomBytes(2048 + Math.floor(Math.random() * 1024))));
        }
        await client.if('/nonexistent', 'Version', '==', 0).then(...ops).commit();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    process.stderr.write(`generated ${total} values in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    const part = `${snapPath}.part`;
    etcdctl(member, ['snapshot', 'save', part]);
    renameSync(part, snapPath);
  } finally {
    client.close();
    await member.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface Timed {
  ms: number;
  cpuMs?: number;
  maxRssKiB?: number;
  stdout: string;
}

function timeCommand(cmd: string, cmdArgs: string[]): Timed {
  const useTime = existsSync('/usr/bin/time');
  const env = { ...process.env, ETCDCTL_API: '3' };
  const t0 = process.hrtime.bigint();
  const r = useTime ? spawnSync('/usr/bin/time', ['-v', cmd, ...cmdArgs], { encoding: 'utf8', env, maxBuffer: 1 << 26 }) : spawnSync(cmd, cmdArgs, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed: ${r.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  return { ms, cpuMs: user && sys ? (Number(user[1]) + Number(sys[1])) * 1000 : undefined, maxRssKiB: rss ? Number(rss[1]) : undefined, stdout: r.stdout };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function main(): Promise<void> {
  if (args.includes('--regenerate') || !existsSync(snapPath)) await generate();
  const size = statSync(snapPath).size;
  process.stdout.write(`snapshot: ${snapPath} (${humanizeBytes(size)}), ${runs} runs each, median\n\n`);
  spawnSync('cat', [snapPath], { stdio: 'ignore' }); // warm the page cache for every contender

  const work = mkdtempSync(join(tmpdir(), 'etcd-ops-bench-write-'));
  const cli = join(root, 'bin', 'etcd-ops.js');
  const child = join(root, 'bench', 'lib', 'rewrite-db.ts');
  const samples: Record<string, { ms: number[]; cpu: number[]; rss: number[] }> = {};
  const add = (name: string, t: Timed) => {
    samples[name] ??= { ms: [], cpu: [], rss: [] };
    samples[name].ms.push(t.ms);
    if (t.cpuMs !== undefined) samples[name].cpu.push(t.cpuMs);
    if (t.maxRssKiB !== undefined) samples[name].rss.push(t.maxRssKiB);
  };
  const restoreFlags = ['--name', 'bench', '--initial-cluster', 'bench=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'];
  let inner = '';
  try {
    for (let i = 0; i < runs; i++) {
      const base = join(work, `etcdctl-${i}`);
      add('etcdctl snapshot restore', timeCommand(bins.etcdctl, ['snapshot', 'restore', snapPath, '--data-dir', base, ...restoreFlags]));
      const out = join(work, `rewritten-${i}.db`);
      const rw = timeCommand(process.execPath, ['--import', 'tsx', child, join(base, 'member', 'snap', 'db'), out, BUMP]);
      inner = rw.stdout.trim();
      add('rewrite with bump (bbolt writer)', rw);
      add('etcd-ops snapshot restore --bump-revision', timeCommand(process.execPath, [cli, 'snapshot', 'restore', snapPath, '--data-dir', join(work, `ours-${i}`), ...restoreFlags, '--bump-revision', BUMP, '--mark-compacted']));
      add('node + tsx startup (no work)', timeCommand(process.execPath, ['--import', 'tsx', '-e', '0']));
      for (const d of [base, out, join(work, `ours-${i}`)]) rmSync(d, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const base = median(samples['etcdctl snapshot restore'].ms);
  const cpuBase = median(samples['etcdctl snapshot restore'].cpu);
  const rows = Object.entries(samples).map(([name, s]) => {
    const ms = median(s.ms);
    const cpu = s.cpu.length ? median(s.cpu) : undefined;
    const rss = s.rss.length ? median(s.rss) : undefined;
    return [name, fmtMs(ms), `${(ms / base).toFixed(2)}x`, cpu === undefined ? '-' : fmtMs(cpu), cpu === undefined ? '-' : `${(cpu / cpuBase).toFixed(2)}x`, rss === undefined ? '-' : `${(rss / 1024).toFixed(0)} MiB`];
  });
  process.stdout.write('ratios: against etcdctl snapshot restore of the same file\n');
  process.stdout.write(`${etcdctlTable(['CONTENDER', 'WALL (MEDIAN)', 'WALL RATIO', 'CPU (MEDIAN)', 'CPU RATIO', 'PEAK RSS'], rows)}\n`);
  const r = JSON.parse(inner) as { ms: number; bytes: number; keys: number };
  process.stdout.write(`rewrite in-process: ${fmtMs(r.ms)} for ${r.keys} keys, ${humanizeBytes(r.bytes)} written: ${(size / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s\n`);
  process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs\n`);
}

await main();
