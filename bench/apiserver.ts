/**
 * Benchmark: API server create and get throughput for Secrets with identity and with aescbc,
 * against raw etcd3 puts and gets of values of the same size, all measured in this run.
 *
 *   node --import tsx bench/apiserver.ts [--n 5000] [--concurrency 48] [--size 2048] [--rounds 1] [--cpu-prof DIR]
 *
 * A real etcd and the real `etcd-ops apiserver` process (HTTPS, bearer token, keep-alive); the
 * server is restarted between the identity and the aescbc configuration, with a fresh namespace
 * each time. Raw etcd runs use the byte size a stored Secret really has (plain for identity,
 * encrypted for aescbc). With --rounds > 1 each figure is the median of the rounds.
 * A third contender, bench/lib/bare-front-end.ts, does only what any HTTPS front end must per
 * create (parse, encrypt, group put, answer): the best our creates could do on this machine.
 * `--cpu-prof [DIR]` writes the API server's V8 CPU profiles there (default bench/.data/cpu-prof).
 *
 * Besides ops/s, each row shows CPU microseconds per operation of the API server, etcd and this
 * client process (from /proc and process.cpuUsage: steadier than ops/s on a busy machine), and how
 * many KV calls etcd answered per operation (from etcd's own metrics). Figures are printed, never asserted.
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:https';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEtcd, type StartedEtcd } from '../test/helpers/etcd.js';
import { startAPIServer, ADMIN_TOKEN, type StartedAPIServer } from '../test/helpers/apiserver.js';
import { etcdctlTable } from '../src/util/table.js';
import { cpuSeconds } from './lib/cpu.js';

const args = process.argv.slice(2);
function opt(name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench/apiserver.ts: --${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}
const N = opt('n', 5000);
const CONCURRENCY = opt('concurrency', 48);
const DATA_BYTES = opt('size', 2048);
const ROUNDS = opt('rounds', 1);
const WARMUP = Math.min(300, Math.ceil(N / 10));
const cpuProfIdx = args.indexOf('--cpu-prof');
const cpuProfArg = args[cpuProfIdx + 1];
const CPU_PROF_DIR = cpuProfIdx < 0 ? undefined : resolve(cpuProfArg && !cpuProfArg.startsWith('-') ? cpuProfArg : 'bench/.data/cpu-prof');

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** The benchmark's etcd, set once it runs. */
let etcdURL = '';

const AES_KEY = randomBytes(32).toString('base64');
const IDENTITY_CONFIG = ['apiVersion: apiserver.config.k8s.io/v1', 'kind: EncryptionConfiguration', 'resources:', '  - resources: [secrets]', '    providers:', '      - identity: {}', ''].join('\n');
const AESCBC_CONFIG = [
  'apiVersion: apiserver.config.k8s.io/v1',
  'kind: EncryptionConfiguration',
  'resources:',
  '  - resources: [secrets]',
  '    providers:',
  `      - aescbc: {keys: [{name: k1, secret: "${AES_KEY}"}]}`,
  '      - identity: {}',
  '',
].join('\n');

/** Runs `op(i)` for i in [0, n) with a fixed number in flight; returns ops/s. */
async function drive(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return n / s;
}

interface Measured {
  opsPerSec: number;
  /** CPU microseconds per operation of the API server process (raw runs: etcd again, not shown). */
  serverCpuUs: number;
  etcdCpuUs: number;
  /** CPU microseconds per operation of this process, the client (HTTPS + JSON, or gRPC for raw runs). */
  clientCpuUs: number;
  /** etcd KV calls (Range, Put, Txn, DeleteRange) etcd answered per operation, from its own metrics. */
  etcdCalls: number;
}

/** How many KV calls etcd has answered so far (grpc_server_handled_total of etcdserverpb.KV). */
async function etcdKvCalls(): Promise<number> {
  const text = await (await fetch(`${etcdURL}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_handled_total{') && line.includes('grpc_service="etcdserverpb.KV"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

async function measure(n: number, pid: number | undefined, etcdPid: number | undefined, op: (i: number) => Promise<void>): Promise<Measured> {
  const c0 = cpuSeconds(pid);
  const e0 = cpuSeconds(etcdPid);
  const k0 = await etcdKvCalls();
  const u0 = process.cpuUsage();
  const opsPerSec = await drive(n, CONCURRENCY, op);
  const u = process.cpuUsage(u0);
  const serverCpuUs = ((cpuSeconds(pid) - c0) / n) * 1e6;
  const etcdCpuUs = ((cpuSeconds(etcdPid) - e0) / n) * 1e6;
  return { opsPerSec, serverCpuUs, etcdCpuUs, clientCpuUs: (u.user + u.system) / n, etcdCalls: ((await etcdKvCalls()) - k0) / n };
}

/** A small HTTPS client on one keep-alive agent: what a controller's client-go does. */
function apiClient(srv: { port: number; caFile: string }) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: readFileSync(srv.caFile) });
  const call = (method: string, path: string, body?: Buffer): Promise<{ status: number; text: string }> =>
    new Promise((resolveP, reject) => {
      const r = request(
        {
          host: '127.0.0.1',
          port: srv.port,
          path,
          method,
          agent,
          headers: {
            Authorization: `Bearer ${ADMIN_TOKEN}`,
            Accept: 'application/json',
            ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolveP({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(body);
    });
  return { call, close: () => agent.destroy() };
}

function secretBody(name: string, payload: string): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data: { payload } }));
}

interface ApiRun {
  create: Measured;
  get: Measured;
  /** Bytes of one stored value in etcd (after the transformer). */
  storedBytes: number;
  storedPrefix: string;
}

async function apiRun(srv: StartedAPIServer, etcdPid: number | undefined, ns: string, payloads: string[]): Promise<ApiRun> {
  const c = apiClient(srv);
  try {
    const expect = async (p: Promise<{ status: number; text: string }>, code: number, what: string) => {
      const r = await p;
      if (r.status !== code) throw new Error(`${what}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    };
    await expect(c.call('POST', '/api/v1/namespaces', Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))), 201, `create namespace ${ns}`);
    const base = `/api/v1/namespaces/${ns}/secrets`;
    // Warm-up (JIT, TLS sessions, gRPC channel), not measured.
    await drive(WARMUP, CONCURRENCY, (i) => expect(c.call('POST', base, secretBody(`warm-${i}`, payloads[i % payloads.length]!)), 201, 'warm-up create'));
    await drive(WARMUP, CONCURRENCY, (i) => expect(c.call('GET', `${base}/warm-${i}`), 200, 'warm-up get'));
    const bodies = Array.from({ length: N }, (_, i) => secretBody(`s-${i}`, payloads[i % payloads.length]!));
    const pid = srv.proc.pid;
    const create = await measure(N, pid, etcdPid, (i) => expect(c.call('POST', base, bodies[i]!), 201, `create s-${i}`));
    const get = await measure(N, pid, etcdPid, (i) => expect(c.call('GET', `${base}/s-${i}`), 200, `get s-${i}`));
    const { Etcd3 } = await import('etcd3');
    const probe = new Etcd3({ hosts: etcdURL });
    try {
      const v = await probe.get(`/kubernetes.io/secrets/${ns}/s-0`).buffer();
      if (!v) throw new Error(`the API server did not store /kubernetes.io/secrets/${ns}/s-0`);
      return { create, get, storedBytes: v.length, storedPrefix: v.subarray(0, 24).toString('latin1').replace(/[^\x20-\x7e]/g, '.') };
    } finally {
      probe.close();
    }
  } finally {
    c.close();
  }
}

/**
 * Creates through bench/lib/bare-front-end.ts, which does only what any HTTPS front end must
 * (parse, stamp, encrypt, group put, answer): the ceiling our API server's creates could reach here.
 */
async function floorRun(srv: StartedAPIServer, etcdPid: number | undefined, ns: string, payloads: string[]): Promise<Measured> {
  const child = fork(join(BENCH_DIR, 'lib/bare-front-end.ts'), [etcdURL, join(srv.dir, 'serving.crt'), join(srv.dir, 'serving.key')], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const port = await new Promise<number>((resolveP, reject) => {
      const timer = setTimeout(() => reject(new Error('the bare front end did not start within 30 s')), 30_000);
      child.once('message', (m) => (clearTimeout(timer), resolveP(Number(m))));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the bare front end exited with ${code}`))));
    });
    const c = apiClient({ port, caFile: srv.caFile });
    try {
      const base = `/api/v1/namespaces/${ns}/secrets`;
      const create = async (name: string, payload: string) => {
        const r = await c.call('POST', base, secretBody(name, payload));
        if (r.status !== 201) throw new Error(`bare front end create ${name}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
      };
      await drive(WARMUP, CONCURRENCY, (i) => create(`warm-${i}`, payloads[i % payloads.length]!));
      return await measure(N, child.pid, etcdPid, (i) => create(`s-${i}`, payloads[i % payloads.length]!));
    } finally {
      c.close();
    }
  } finally {
    child.kill('SIGTERM');
  }
}

async function rawRun(etcd: StartedEtcd, prefix: string, valueBytes: number): Promise<{ put: Measured; get: Measured }> {
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({ hosts: etcd.clientURL });
  try {
    const values = Array.from({ length: 64 }, () => randomBytes(valueBytes));
    await drive(WARMUP, CONCURRENCY, (i) => client.put(`${prefix}/warm-${i}`).value(values[i % 64]!).exec().then(() => undefined));
    const put = await measure(N, etcd.proc.pid, etcd.proc.pid, async (i) => {
      await client.put(`${prefix}/s-${i}`).value(values[i % 64]!).exec();
    });
    const get = await measure(N, etcd.proc.pid, etcd.proc.pid, async (i) => {
      const v = await client.get(`${prefix}/s-${i}`).buffer();
      if (!v || v.length !== valueBytes) throw new Error(`raw get ${prefix}/s-${i} returned ${v?.length} bytes`);
    });
    return { put, get };
  } finally {
    client.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianOf(ms: Measured[]): Measured {
  return {
    opsPerSec: median(ms.map((m) => m.opsPerSec)),
    serverCpuUs: median(ms.map((m) => m.serverCpuUs)),
    etcdCpuUs: median(ms.map((m) => m.etcdCpuUs)),
    clientCpuUs: median(ms.map((m) => m.clientCpuUs)),
    etcdCalls: median(ms.map((m) => m.etcdCalls)),
  };
}

/** Starts V8's profiler in the process that loads it and writes DIR/apiserver-<pid>.cpuprofile at exit. */
function profilerPreload(dir: string): string {
  return `import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
session.post('Profiler.start');
process.on('exit', () => {
  // The in-process inspector answers synchronously, so this works inside 'exit'.
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(${JSON.stringify(dir)} + '/apiserver-' + process.pid + '.cpuprofile', JSON.stringify(res.profile));
  });
});
`;
}

const fmtLoad = () => loadavg().map((l) => l.toFixed(2)).join(', ');

async function main(): Promise<void> {
  process.stdout.write(`apiserver benchmark: ${N} Secrets (${DATA_BYTES} B of data each), ${CONCURRENCY} in flight, ${ROUNDS} round(s); ${cpus().length} CPUs, load average ${fmtLoad()}\n`);
  const etcd = await startEtcd({ extraArgs: ['--quota-backend-bytes', String(4 * 1024 ** 3), '--snapshot-count', '1000000'] });
  etcdURL = etcd.clientURL;
  let srv: StartedAPIServer | undefined;
  const tmpDirs: string[] = [];
  const savedNodeOptions = process.env.NODE_OPTIONS;
  if (CPU_PROF_DIR) {
    mkdirSync(CPU_PROF_DIR, { recursive: true });
    // Node refuses --cpu-prof in NODE_OPTIONS, so a preloaded module drives the inspector's profiler
    // instead. Only the API server child inherits this; the bench process has already started.
    const preload = join(mkdtempSync(join(tmpdir(), 'etcd-ops-bench-prof-')), 'profile.mjs');
    tmpDirs.push(dirname(preload));
    writeFileSync(preload, profilerPreload(CPU_PROF_DIR));
    process.env.NODE_OPTIONS = `${savedNodeOptions ?? ''} --import=${pathToFileURL(preload).href}`.trim();
  }
  const payloads = Array.from({ length: 64 }, () => randomBytes(Math.floor((DATA_BYTES * 3) / 4)).toString('base64'));
  const results = { rawPlain: { put: [] as Measured[], get: [] as Measured[] }, rawEnc: { put: [] as Measured[], get: [] as Measured[] }, identity: [] as ApiRun[], aescbc: [] as ApiRun[], floor: [] as Measured[] };
  try {
    srv = await startAPIServer({ etcd, encryptionConfig: IDENTITY_CONFIG });
    tmpDirs.push(srv.dir);
    const identityConfigFile = join(srv.dir, 'encryption-config.yaml');
    const aescbcConfigFile = join(srv.dir, 'encryption-config-aescbc.yaml');
    writeFileSync(aescbcConfigFile, AESCBC_CONFIG, { mode: 0o600 });
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) await srv.restart({ encryptionConfigFile: identityConfigFile });
      process.stderr.write(`round ${round + 1}: identity API server...\n`);
      const id = await apiRun(srv, etcd.proc.pid, `bench-identity-${round}`, payloads);
      results.identity.push(id);
      process.stderr.write(`round ${round + 1}: raw etcd, ${id.storedBytes} B values...\n`);
      const rp = await rawRun(etcd, `/bench/raw-plain-${round}`, id.storedBytes);
      results.rawPlain.put.push(rp.put);
      results.rawPlain.get.push(rp.get);

      await srv.restart({ encryptionConfigFile: aescbcConfigFile });
      process.stderr.write(`round ${round + 1}: aescbc API server...\n`);
      const aes = await apiRun(srv, etcd.proc.pid, `bench-aescbc-${round}`, payloads);
      if (!aes.storedPrefix.startsWith('k8s:enc:aescbc:v1:k1:')) throw new Error(`aescbc run stored unencrypted values (${aes.storedPrefix})`);
      results.aescbc.push(aes);
      process.stderr.write(`round ${round + 1}: raw etcd, ${aes.storedBytes} B values...\n`);
      const re = await rawRun(etcd, `/bench/raw-enc-${round}`, aes.storedBytes);
      results.rawEnc.put.push(re.put);
      results.rawEnc.get.push(re.get);

      process.stderr.write(`round ${round + 1}: bare HTTPS front end (floor)...\n`);
      results.floor.push(await floorRun(srv, etcd.proc.pid, `bench-floor-${round}`, payloads));
    }
  } finally {
    await srv?.stop();
    await etcd.stop();
    if (CPU_PROF_DIR) process.env.NODE_OPTIONS = savedNodeOptions;
    for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
    rmSync(join(etcd.dataDir, '..'), { recursive: true, force: true });
  }

  const rawPlain = { put: medianOf(results.rawPlain.put), get: medianOf(results.rawPlain.get) };
  const rawEnc = { put: medianOf(results.rawEnc.put), get: medianOf(results.rawEnc.get) };
  const id = { create: medianOf(results.identity.map((r) => r.create)), get: medianOf(results.identity.map((r) => r.get)) };
  const aes = { create: medianOf(results.aescbc.map((r) => r.create)), get: medianOf(results.aescbc.map((r) => r.get)) };
  const floor = medianOf(results.floor);
  const plainBytes = results.identity[0]!.storedBytes;
  const encBytes = results.aescbc[0]!.storedBytes;

  const ops = (m: Measured) => m.opsPerSec.toFixed(0);
  const us = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
  const cg = (c: Measured, g: Measured, f: (m: Measured) => number) => `${us(f(c))} / ${us(f(g))}`;
  const apiRow = (name: string, bytes: number, m: { create: Measured; get: Measured }) => [
    name,
    bytes,
    ops(m.create),
    ops(m.get),
    cg(m.create, m.get, (x) => x.serverCpuUs),
    cg(m.create, m.get, (x) => x.etcdCpuUs),
    cg(m.create, m.get, (x) => x.clientCpuUs),
    `${m.create.etcdCalls.toFixed(2)} / ${m.get.etcdCalls.toFixed(2)}`,
  ];
  const rawRow = (name: string, bytes: number, m: { put: Measured; get: Measured }) => [
    name,
    bytes,
    ops(m.put),
    ops(m.get),
    '-',
    cg(m.put, m.get, (x) => x.etcdCpuUs),
    cg(m.put, m.get, (x) => x.clientCpuUs),
    `${m.put.etcdCalls.toFixed(2)} / ${m.get.etcdCalls.toFixed(2)}`,
  ];
  process.stdout.write(
    '\n' +
      etcdctlTable(
        ['CONTENDER', 'VALUE BYTES', 'CREATE OPS/S', 'GET OPS/S', 'APISERVER CPU US/OP (C/G)', 'ETCD CPU US/OP (C/G)', 'CLIENT CPU US/OP (C/G)', 'ETCD CALLS/OP (C/G)'],
        [
          rawRow('raw etcd3 (plain size)', plainBytes, rawPlain),
          rawRow('raw etcd3 (encrypted size)', encBytes, rawEnc),
          apiRow('API server, identity', plainBytes, id),
          apiRow('API server, aescbc', encBytes, aes),
          ['bare HTTPS front end, aescbc (floor)', encBytes, ops(floor), '-', us(floor.serverCpuUs), us(floor.etcdCpuUs), us(floor.clientCpuUs), floor.etcdCalls.toFixed(2)],
        ],
      ) +
      '\n\n',
  );
  const ratio = (a: Measured, b: Measured) => a.opsPerSec / b.opsPerSec;
  // All CPU one operation costs (API server, etcd, client), raw runs have no API server: the
  // throughput ratio a CPU-bound machine would show, steadier than ops/s when others share it.
  const totalCpu = (m: Measured, api: boolean) => (api ? m.serverCpuUs : 0) + m.etcdCpuUs + m.clientCpuUs;
  const cpuRatio = (a: Measured, aApi: boolean, b: Measured, bApi: boolean) => totalCpu(b, bApi) / totalCpu(a, aApi);
  const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : '-');
  const r = {
    aesRawC: ratio(aes.create, rawEnc.put),
    aesRawG: ratio(aes.get, rawEnc.get),
    aesIdC: ratio(aes.create, id.create),
    aesIdG: ratio(aes.get, id.get),
    idRawC: ratio(id.create, rawPlain.put),
    idRawG: ratio(id.get, rawPlain.get),
  };
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const byCpu = (a: Measured, aApi: boolean, b: Measured, bApi: boolean, c: Measured, cApi: boolean, d: Measured, dApi: boolean) =>
    `${pct(cpuRatio(a, aApi, b, bApi))} / ${pct(cpuRatio(c, cApi, d, dApi))}`;
  process.stdout.write(
    etcdctlTable(
      ['RATIO (OPS/S)', 'CREATE', 'GET', 'TARGET', 'RESULT', 'BY CPU PER OP (C/G)'],
      [
        ['aescbc / raw etcd (encrypted size)', pct(r.aesRawC), pct(r.aesRawG), '>= 70 %', met(r.aesRawC >= 0.7 && r.aesRawG >= 0.7), byCpu(aes.create, true, rawEnc.put, false, aes.get, true, rawEnc.get, false)],
        ['aescbc / identity', pct(r.aesIdC), pct(r.aesIdG), '>= 90 %', met(r.aesIdC >= 0.9 && r.aesIdG >= 0.9), byCpu(aes.create, true, id.create, true, aes.get, true, id.get, true)],
        ['identity / raw etcd (plain size)', pct(r.idRawC), pct(r.idRawG), '-', '-', byCpu(id.create, true, rawPlain.put, false, id.get, true, rawPlain.get, false)],
        ['bare front end / raw etcd (encrypted size)', pct(ratio(floor, rawEnc.put)), '-', '-', '-', `${pct(cpuRatio(floor, true, rawEnc.put, false))} / -`],
        ['aescbc / bare front end', pct(ratio(aes.create, floor)), '-', '-', '-', `${pct(cpuRatio(aes.create, true, floor, true))} / -`],
      ],
    ) + '\n',
  );
  process.stdout.write(`\nraw etcd3 baseline: single-key puts and gets from one etcd3 client, ${CONCURRENCY} in flight; load average at the end ${fmtLoad()}\n`);
  process.stdout.write('bare front end: bench/lib/bare-front-end.ts, the least an HTTPS front end does per create (no auth, validation or per-object CAS)\n');
  if (CPU_PROF_DIR) process.stdout.write(`API server CPU profiles: ${CPU_PROF_DIR}\n`);
}

await main();
