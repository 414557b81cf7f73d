/**
 * Benchmark of the backup lifecycle on a >= 512 MB snapshot, measured in one run:
 *   1. `etcd-ops backup drill` against the bare sequence it extends: `etcdctl snapshot restore`,
 *      start etcd on the result, `etcdctl endpoint hashkv --rev R` (target: drill <= 1.3x);
 *   2. `etcd-ops backup --encrypt-to` (age) against the plain `etcd-ops backup`, from the same
 *      member (target: encrypted throughput >= 0.8x the plain one's);
 *   3. the floors: age's cipher alone (the age-encryption package, in memory) and sha256.
 *
 *   node --import tsx bench/backup-lifecycle.ts [--runs N]
 *
 * The snapshot is bench/.data/status-512m.db (bench/snapshot-status.ts builds and caches it).
 * Runs are interleaved; figures are printed, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { bins } from '../test/helpers/etcd.js';
import { trackPid, untrackPid } from '../test/helpers/cleanup.js';
import { drillBackup } from '../src/backup/drill.js';
import { waitFor } from '../src/util/time.js';
import { freePorts } from '../src/util/ports.js';
import { humanizeBytes } from '../src/etcd/humanize.js';
import { etcdctlTable } from '../src/util/table.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'bench', '.data', 'status-512m.db');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
const env = { ...process.env, ETCDCTL_API: '3' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function run(cmd: string, a: string[]): string {
  const r = spawnSync(cmd, a, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

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
  await waitFor(`etcd at ${clientURL}`, 180_000, () => {
    if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}`);
    return spawnSync(bins.etcdctl, ['--endpoints', clientURL, '--command-timeout', '2s', 'endpoint', 'health'], { env }).status === 0 ? true : undefined;
  }, 100);
  return { clientURL, stop, peerURL };
}

/** What the drill extends: restore, start, hashkv at the snapshot's revision. */
async function bareSequence(tmp: string, rev: number): Promise<{ ms: number; hash: number }> {
  const t0 = Date.now();
  const dataDir = join(tmp, `bare-${Date.now()}`);
  run(bins.etcdctl, ['snapshot', 'restore', source, '--data-dir', dataDir, '--name', 'bench', '--initial-cluster', 'bench=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
  const m = await startMember(dataDir);
  try {
    const out = run(bins.etcdctl, ['--endpoints', m.clientURL, '--command-timeout', '120s', 'endpoint', 'hashkv', '--rev', String(rev), '-w', 'json']);
    return { ms: Date.now() - t0, hash: JSON.parse(out)[0].HashKV.hash };
  } finally {
    await m.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(source)) {
    process.stderr.write(`${source} is missing: run \`node --import tsx bench/snapshot-status.ts --generate-only\` first (it builds the >= 512 MB database)\n`);
    process.exit(1);
  }
  const size = statSync(source).size;
  const rev = JSON.parse(run(bins.etcdctl, ['snapshot', 'status', source, '-w', 'json'])).revision as number;
  process.stdout.write(`snapshot ${source}: ${humanizeBytes(size)} (${size} bytes), revision ${rev}; ${runs} runs each, interleaved, median\n\n`);
  const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-bench-lifecycle-'));
  try {
    // 1. The drill against the bare sequence.
    const bare: number[] = [];
    const drill: number[] = [];
    const steps: Record<string, number[]> = {};
    await bareSequence(tmp, rev); // warm-up: page cache, binaries
    for (let i = 0; i < runs; i++) {
      const b = await bareSequence(tmp, rev);
      bare.push(b.ms);
      const t0 = Date.now();
      const r = await drillBackup({ path: source, scratchRoot: tmp });
      drill.push(Date.now() - t0);
      if (r.result !== 'Passed') throw new Error(`the drill failed: ${r.reason}`);
      for (const s of r.steps) (steps[s.name] ??= []).push(s.ms);
    }
    const bm = median(bare);
    const dm = median(drill);
    process.stdout.write(`${etcdctlTable(['CONTENDER', 'WALL (MEDIAN)', 'RATIO', 'PER RUN (S)'], [
      ['etcdctl snapshot restore + start etcd + endpoint hashkv', `${(bm / 1000).toFixed(2)} s`, '1.00x', bare.map((x) => (x / 1000).toFixed(2)).join(' ')],
      ['etcd-ops backup drill', `${(dm / 1000).toFixed(2)} s`, `${(dm / bm).toFixed(2)}x`, drill.map((x) => (x / 1000).toFixed(2)).join(' ')],
    ])}\n`);
    process.stdout.write(`drill steps (median ms): ${Object.entries(steps).map(([k, v]) => `${k} ${median(v).toFixed(0)}`).join(', ')}\n`);
    process.stdout.write(`drill: ${(dm / bm).toFixed(2)}x the bare sequence (target <= 1.3x)\n\n`);

    // 2. Encrypted backup throughput against the plain backup, from one member.
    const dataDir = join(tmp, 'member');
    run(bins.etcdctl, ['snapshot', 'restore', source, '--data-dir', dataDir, '--name', 'bench', '--initial-cluster', 'bench=http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380']);
    const m = await startMember(dataDir);
    const recipient = await identityToRecipient(await generateX25519Identity());
    const plain: number[] = [];
    const enc: number[] = [];
    let db = 0;
    try {
      const backup = (extra: string[]) => {
        const out = join(tmp, `out-${Date.now()}`);
        const t0 = Date.now();
        run(process.execPath, [join(root, 'bin', 'etcd-ops.js'), 'backup', out, '--endpoints', m.clientURL, ...extra]);
        const ms = Date.now() - t0;
        const snap = readdirSync(out).find((n) => n.includes('.db'))!;
        const bytes = statSync(join(out, snap)).size;
        rmSync(out, { recursive: true });
        return { ms, bytes };
      };
      backup([]); // warm-up
      for (let i = 0; i < runs; i++) {
        const order = i % 2 === 0 ? [false, true] : [true, false];
        for (const e of order) {
          const r = backup(e ? ['--encrypt-to', recipient] : []);
          if (!e) db = r.bytes;
          (e ? enc : plain).push(r.ms);
          await new Promise((res) => setTimeout(res, 1000)); // backups are named by the second
        }
      }
    } finally {
      await m.stop();
    }
    const mbs = (ms: number) => db / 1e6 / (ms / 1000);
    const pm = mbs(median(plain));
    const em = mbs(median(enc));
    process.stdout.write(`${etcdctlTable(['CONTENDER', 'WALL (MEDIAN)', 'THROUGHPUT', 'RATIO', 'PER RUN (MB/S)'], [
      ['etcd-ops backup', `${(median(plain) / 1000).toFixed(2)} s`, `${pm.toFixed(0)} MB/s`, '1.00x', plain.map((x) => mbs(x).toFixed(0)).join(' ')],
      ['etcd-ops backup --encrypt-to (age)', `${(median(enc) / 1000).toFixed(2)} s`, `${em.toFixed(0)} MB/s`, `${(em / pm).toFixed(2)}x`, enc.map((x) => mbs(x).toFixed(0)).join(' ')],
    ])}\n`);
    process.stdout.write(`encrypted backup: ${(em / pm).toFixed(2)}x the plain one's throughput (target >= 0.8x)\n\n`);

    // 3. The floors: age's cipher in memory (ChaCha20-Poly1305 in JavaScript), and sha256.
    const total = 256 * 1024 * 1024;
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    let sent = 0;
    const e = new Encrypter();
    e.addRecipient(recipient);
    const t0 = Date.now();
    const out = await e.encrypt(new ReadableStream<Uint8Array>({ pull(c) { if (sent >= total) c.close(); else { c.enqueue(chunk); sent += chunk.length; } } }));
    for await (const _ of out as unknown as AsyncIterable<Uint8Array>) void _;
    const ageMbs = total / 1e6 / ((Date.now() - t0) / 1000);
    const h = createHash('sha256');
    const t1 = Date.now();
    for (let i = 0; i < 256; i++) h.update(chunk);
    h.digest();
    const shaMbs = total / 1e6 / ((Date.now() - t1) / 1000);
    process.stdout.write(`floors: age-encryption's cipher alone ${ageMbs.toFixed(0)} MB/s in memory; sha256 ${shaMbs.toFixed(0)} MB/s. ` + `An encrypted backup cannot beat the cipher: its best ratio here is about ${Math.min(1, ageMbs / pm).toFixed(2)}x.\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs\n`);
}

await main();
