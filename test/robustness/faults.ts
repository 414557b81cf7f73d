/**
 * Faults and operations on a running home, each as a user or a failure would do it: SIGKILL of a
 * process the agent runs (pids from its pods.json), `etcd-ops host kill|start|isolate|heal`, a
 * throttled cgroup, a backup target that fills up, and the CLI's own defrag, compact, backup,
 * encryption rotate and restore. Each records a `fault` special (and compactions, migrations and
 * restores for the checker) and waits, bounded, until the control plane is whole again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { readAgentStatus } from '../../src/agent/status.js';
import { withAnyEndpoint } from '../../src/etcd/connection.js';
import { endpointHealths } from '../../src/etcd/health.js';
import { fetchText } from '../../src/etcd/metrics.js';
import { OPERATOR_ELECTION } from '../../src/etcd/own-keys.js';
import { endpointStatuses } from '../../src/etcd/status.js';
import { hostPaths } from '../../src/home/layout.js';
import type { KubeClient } from '../../src/kube/client.js';
import { encryptionReport } from '../../src/operator/encryption/report.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import type { TestHome } from '../helpers/home.js';
import type { Recorder } from './recorder.js';

export interface Lab {
  t: TestHome;
  kube: KubeClient;
  rec: Recorder;
  rand: () => number;
  log(line: string): void;
  /** When the faults stop (Date.now() ms); the traffic runs on while the scenario recovers. */
  until: number;
  /** What the scenario measured, for the result JSON: failover times, backup outcomes ... */
  notes: Record<string, unknown[]>;
  /** Undone at the end, whatever happened: throttles, mounts. */
  cleanups: Array<() => void>;
  /** Where the scenario may write (backups). */
  work: string;
  /** The traffic's watchers, to cut their streams. */
  traffic?: { dropWatches(): number };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records a fault from now until the returned function is called, and says so in the log. */
function begin(lab: Lab, what: string): (outcome?: string) => void {
  lab.log(`${what} ...`);
  const done = lab.rec.fault(what);
  return (outcome?: string) => {
    lab.log(`${what}${outcome ? `: ${outcome}` : ''}`);
    done(outcome);
  };
}

export function note(lab: Lab, what: string, value: unknown): void {
  (lab.notes[what] ??= []).push(value);
}

const hosts = (lab: Lab) => lab.t.cluster.hosts.map((h) => h.name);
const pick = <T>(lab: Lab, xs: readonly T[]): T => xs[Math.floor(lab.rand() * xs.length)]!;
const remaining = (lab: Lab) => lab.until - Date.now();

async function poll<T>(timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined, everyMs = 250): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {}
    await sleep(everyMs);
  }
  return undefined;
}

export async function cli(lab: Lab, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  const r = await lab.t.cli(args, { timeoutMs }).catch((err: Error) => ({ code: null, stdout: '', stderr: err.message.split('\n')[0]! }));
  lab.log(`etcd-ops ${args.join(' ')} → ${r.code}${r.code ? `: ${(r.stderr || r.stdout).trim().split('\n').pop()}` : ''}`);
  return r;
}

// ---- observing ----

const quick = (lab: Lab) => ({ ...lab.t.conn, commandTimeoutMs: 2000, dialTimeoutMs: 1000 });

/** The etcd leader's host and raft term, as the members that answer see it. */
async function currentLeader(lab: Lab): Promise<{ host: string; term: bigint } | undefined> {
  const st = await endpointStatuses(quick(lab));
  const l = st.find((s) => s.status && s.status.leader === s.status.header.member_id);
  const host = l && lab.t.cluster.hosts.find((h) => h.clientURL === l.endpoint)?.name;
  return host && l?.status ? { host, term: l.status.raftTerm } : undefined;
}

export async function leaderHost(lab: Lab): Promise<string | undefined> {
  return (await currentLeader(lab))?.host;
}

export async function waitLeader(lab: Lab, timeoutMs = 30_000, not?: string): Promise<string | undefined> {
  return poll(timeoutMs, async () => {
    const l = await leaderHost(lab);
    return l && l !== not ? l : undefined;
  });
}

/**
 * A leader elected after `term`: any member, the killed one included, since the agent restarts a
 * killed member within a second or two and on a loaded machine it may win the election itself.
 */
export async function waitLeaderAfter(lab: Lab, term: bigint, timeoutMs = 30_000): Promise<string | undefined> {
  return poll(timeoutMs, async () => {
    const l = await currentLeader(lab);
    return l && l.term > term ? l.host : undefined;
  });
}

/** Every member healthy and the API servers ready: the control plane is whole. */
export async function waitWhole(lab: Lab, timeoutMs = 120_000): Promise<boolean> {
  const ok = await poll(timeoutMs, async () => {
    const h = await endpointHealths(quick(lab));
    if (!h.every((x) => x.health)) return undefined;
    const ready = await Promise.all(lab.t.cluster.hosts.map((x) => readyz(lab, x.apiServerURL)));
    return ready.every(Boolean) ? true : undefined;
  }, 500);
  if (!ok) lab.log(`the control plane was not whole again within ${timeoutMs / 1000}s`);
  return !!ok;
}

export function readyz(lab: Lab, url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL('/readyz', url);
    const ca = readFileSync(join(lab.t.home, 'pki', 'ca.crt'), 'utf8');
    const req = request(u, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The pid of a container, from what the host's agent reports. */
export function containerPid(lab: Lab, host: string, pod: string, container: string): number | undefined {
  const st = readAgentStatus(hostPaths(lab.t.home, host).podStatusFile);
  const c = st?.pods.find((p) => p.name === `${pod}-${host}`)?.containers.find((x) => x.name === container);
  return c?.state === 'Running' ? c.pid : undefined;
}

/** The operator replica holding the election: the oldest key under the election prefix. */
export async function operatorLeader(lab: Lab): Promise<{ key: string; host: string } | undefined> {
  return withAnyEndpoint(quick(lab), async (c) => {
    const r = await c.getAll().prefix(`election/${OPERATOR_ELECTION}/`).sort('Create', 'Ascend').limit(1).exec();
    const kv = r.kvs[0];
    return kv ? { key: kv.key.toString(), host: kv.value.toString() } : undefined;
  });
}

/** When an operator replica last logged its election after `sinceMs` (wall clock), from the pods' logs. */
function electedSince(lab: Lab, sinceMs: number): { host: string; at: number } | undefined {
  let best: { host: string; at: number } | undefined;
  for (const host of hosts(lab)) {
    const dir = join(hostPaths(lab.t.home, host).podLogs, `openshift-kube-apiserver-operator_etcd-ops-operator-${host}`, 'operator');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        if (!line.includes('elected: running the controllers')) continue;
        const m = / (\d{4}-\d\d-\d\dT[\d:.]+Z) /.exec(` ${line.replace(/^\S+ \S+ \S+ /, '')}`);
        const at = m ? Date.parse(m[1]!) : NaN;
        if (at > sinceMs && (!best || at < best.at)) best = { host, at };
      }
    }
  }
  return best;
}

/**
 * After the active operator is killed or cut off: how long until another campaign key led the
 * election (the old lease expired), and until a replica said it was elected and ran its controllers.
 */
async function operatorTakeover(lab: Lab, oldKey: string, sinceMs: number, timeoutMs: number): Promise<void> {
  const [keyMoved, elected] = await Promise.all([
    operatorFailover(lab, oldKey, sinceMs, timeoutMs),
    poll(timeoutMs, () => electedSince(lab, sinceMs), 500),
  ]);
  note(lab, 'operatorLeaseGoneMs', keyMoved ? keyMoved.ms : null);
  note(lab, 'operatorFailoverMs', elected ? elected.at - sinceMs : null);
}

/** Waits until another campaign key leads the election; the time it took, or undefined. */
async function operatorFailover(lab: Lab, oldKey: string, sinceMs: number, timeoutMs: number): Promise<{ ms: number; host: string } | undefined> {
  const l = await poll(timeoutMs, async () => {
    const cur = await operatorLeader(lab);
    return cur && cur.key !== oldKey ? cur : undefined;
  }, 250);
  return l ? { ms: Date.now() - sinceMs, host: l.host } : undefined;
}

// ---- faults ----

function sigkill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL of one etcd member (the leader, or a follower); the agent restarts it. */
export async function killMember(lab: Lab, which: 'leader' | 'follower'): Promise<void> {
  const leader = await waitLeader(lab);
  if (!leader) return;
  const victim = which === 'leader' ? leader : pick(lab, hosts(lab).filter((h) => h !== leader));
  const pid = containerPid(lab, victim, 'etcd', 'etcd');
  if (!pid) return;
  const term = which === 'leader' ? (await currentLeader(lab).catch(() => undefined))?.term : undefined;
  const done = begin(lab, `SIGKILL etcd ${which} ${victim}`);
  const at = Date.now();
  sigkill(pid);
  if (which === 'leader') {
    const next = term === undefined ? await waitLeader(lab, 30_000, victim) : await waitLeaderAfter(lab, term, 30_000);
    note(lab, 'newLeaderMs', next ? Date.now() - at : null);
  }
  const whole = await waitWhole(lab);
  note(lab, 'memberBackMs', whole ? Date.now() - at : null);
  done(`whole again after ${Date.now() - at} ms`);
}

export async function killApiServer(lab: Lab): Promise<void> {
  const victim = pick(lab, hosts(lab));
  const pid = containerPid(lab, victim, 'kube-apiserver', 'kube-apiserver');
  if (!pid) return;
  const done = begin(lab, `SIGKILL kube-apiserver ${victim}`);
  const at = Date.now();
  sigkill(pid);
  const url = lab.t.cluster.hosts.find((h) => h.name === victim)!.apiServerURL;
  await sleep(500);
  const back = await poll(120_000, async () => ((await readyz(lab, url)) ? true : undefined), 500);
  note(lab, 'apiServerBackMs', back ? Date.now() - at : null);
  done(`ready again after ${Date.now() - at} ms`);
}

/** SIGKILL of the active operator; measures how long until another replica leads. */
export async function killOperator(lab: Lab): Promise<void> {
  const leader = await operatorLeader(lab).catch(() => undefined);
  if (!leader) return;
  const pid = containerPid(lab, leader.host, 'etcd-ops-operator', 'operator');
  if (!pid) return;
  const done = begin(lab, `SIGKILL operator leader ${leader.host}`);
  const at = Date.now();
  sigkill(pid);
  await operatorTakeover(lab, leader.key, at, 120_000);
  const ms = lab.notes.operatorFailoverMs?.at(-1);
  done(typeof ms === 'number' ? `a replica runs the controllers ${ms} ms later` : 'no replica elected within 120 s');
}

/** `host kill` (a power cut), then `host start` after a while. */
export async function hostLoss(lab: Lab): Promise<void> {
  const leader = await waitLeader(lab);
  const victim = lab.rand() < 0.5 && leader ? leader : pick(lab, hosts(lab).filter((h) => h !== leader));
  const done = begin(lab, `host kill ${victim}${victim === leader ? ' (etcd leader)' : ''}`);
  const at = Date.now();
  await cli(lab, ['host', 'kill', victim]);
  await sleep(Math.min(15_000 + lab.rand() * 15_000, Math.max(5000, remaining(lab))));
  await cli(lab, ['host', 'start', victim]);
  const whole = await waitWhole(lab, 180_000);
  note(lab, 'hostBackMs', whole ? Date.now() - at : null);
  done(`whole again after ${Date.now() - at} ms`);
}

/**
 * `host isolate` (a pulled cable) of the leader's host, a follower's, or the active operator's,
 * then `host heal`. Writes on the cut-off side cannot succeed: they time out or fail.
 */
export async function partition(lab: Lab, which: 'leader' | 'follower' | 'operator'): Promise<void> {
  const leader = await waitLeader(lab);
  const op = await operatorLeader(lab).catch(() => undefined);
  let victim: string;
  if (which === 'operator') victim = op?.host ?? pick(lab, hosts(lab));
  else if (which === 'leader') victim = leader ?? pick(lab, hosts(lab));
  else victim = pick(lab, hosts(lab).filter((h) => h !== leader));
  const done = begin(lab, `isolate ${victim} (${[victim === leader && 'etcd leader', victim === op?.host && 'operator leader'].filter(Boolean).join(', ') || 'follower'})`);
  const at = Date.now();
  await cli(lab, ['host', 'isolate', victim]);
  const hold = 20_000 + lab.rand() * 20_000;
  const waits: Promise<unknown>[] = [];
  if (victim === leader) waits.push(waitLeader(lab, hold, victim).then((l) => note(lab, 'newLeaderMs', l ? Date.now() - at : null)));
  if (op && victim === op.host) {
    waits.push(operatorTakeover(lab, op.key, at, 150_000));
  }
  await sleep(hold);
  await Promise.all(waits);
  await cli(lab, ['host', 'heal', victim]);
  const whole = await waitWhole(lab, 180_000);
  note(lab, 'healedWholeMs', whole ? Date.now() - at - hold : null);
  done(`isolated ${Math.round(hold / 1000)} s; whole again ${Date.now() - at} ms after the cut`);
}

// ---- slow disk ----

/** The block device (major:minor) a path lives on, the whole disk for a partition. */
function blockDevice(path: string): string | undefined {
  const dev = statSync(path).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((Math.floor(dev / 1048576) & 0xfff00) >>> 0);
  let id = `${major}:${minor}`;
  const sys = `/sys/dev/block/${id}`;
  if (!existsSync(sys)) return undefined;
  if (existsSync(join(sys, 'partition'))) id = readFileSync(join(sys, '..', 'dev'), 'utf8').trim();
  return id;
}

interface Throttle {
  how: string;
  release(): void;
}

/**
 * Slows one process's disk and CPU as far as this machine allows: cgroup v1 blkio (write IOPS and
 * bandwidth on the data dir's disk, which throttles the member's own fsyncs) and a CPU quota. On
 * cgroup v2 the same with io.max and cpu.max. Undefined when neither is writable.
 */
export function throttle(pid: number, dataDir: string, name: string): Throttle | undefined {
  const dev = blockDevice(dataDir);
  const made: Array<{ dir: string; procs: string }> = [];
  const parts: string[] = [];
  const join2 = (dir: string, f: string, v: string) => writeFileSync(join(dir, f), v);
  try {
    if (existsSync('/sys/fs/cgroup/blkio/cgroup.procs') && dev) {
      const dir = `/sys/fs/cgroup/blkio/${name}`;
      mkdirSync(dir);
      made.push({ dir, procs: '/sys/fs/cgroup/blkio/cgroup.procs' });
      join2(dir, 'blkio.throttle.write_iops_device', `${dev} 20`);
      join2(dir, 'blkio.throttle.write_bps_device', `${dev} ${1024 * 1024}`);
      join2(dir, 'cgroup.procs', String(pid));
      parts.push(`blkio ${dev}: 20 write IOPS, 1 MiB/s`);
    }
    if (existsSync('/sys/fs/cgroup/cpu/cgroup.procs')) {
      const dir = `/sys/fs/cgroup/cpu/${name}`;
      mkdirSync(dir);
      made.push({ dir, procs: '/sys/fs/cgroup/cpu/cgroup.procs' });
      join2(dir, 'cpu.cfs_period_us', '100000');
      join2(dir, 'cpu.cfs_quota_us', '10000');
      join2(dir, 'cgroup.procs', String(pid));
      parts.push('cpu 10 %');
    } else if (existsSync('/sys/fs/cgroup/cgroup.subtree_control')) {
      const dir = `/sys/fs/cgroup/${name}`;
      mkdirSync(dir);
      made.push({ dir, procs: '/sys/fs/cgroup/cgroup.procs' });
      if (dev) {
        try {
          join2(dir, 'io.max', `${dev} wiops=20 wbps=${1024 * 1024}`);
          parts.push(`io.max ${dev}: 20 write IOPS, 1 MiB/s`);
        } catch {}
      }
      join2(dir, 'cpu.max', '10000 100000');
      join2(dir, 'cgroup.procs', String(pid));
      parts.push('cpu.max 10 %');
    }
  } catch (err) {
    release();
    return undefined;
  }
  function release() {
    for (const m of made.reverse()) {
      try {
        for (const p of readFileSync(join(m.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(m.procs, p);
      } catch {}
      try {
        rmdirSync(m.dir);
      } catch {}
    }
    made.length = 0;
  }
  return parts.length ? { how: parts.join(', '), release } : (release(), undefined);
}

/** Mean WAL fsync and backend commit time of a member since the previous sample, from its metrics. */
async function diskSample(lab: Lab, host: string): Promise<{ fsync: [number, number]; commit: [number, number] } | undefined> {
  const h = lab.t.cluster.hosts.find((x) => x.name === host)!;
  try {
    const text = await fetchText(`${h.metricsURL}/metrics`, quick(lab));
    const val = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      fsync: [val('etcd_disk_wal_fsync_duration_seconds_sum'), val('etcd_disk_wal_fsync_duration_seconds_count')],
      commit: [val('etcd_disk_backend_commit_duration_seconds_sum'), val('etcd_disk_backend_commit_duration_seconds_count')],
    };
  } catch {
    return undefined;
  }
}

const meanMs = (a?: [number, number], b?: [number, number]) => (a && b && b[1] > a[1] ? Math.round(((b[0] - a[0]) / (b[1] - a[1])) * 10000) / 10 : null);

export async function slowDisk(lab: Lab): Promise<void> {
  const leader = await waitLeader(lab);
  const victim = lab.rand() < 0.5 && leader ? leader : pick(lab, hosts(lab).filter((h) => h !== leader));
  const pid = containerPid(lab, victim, 'etcd', 'etcd');
  if (!pid) return;
  const before = await diskSample(lab, victim);
  await sleep(5000);
  const base = await diskSample(lab, victim);
  const th = throttle(pid, hostPaths(lab.t.home, victim).etcdDataDir, `etcd-ops-robustness-${process.pid}`);
  if (!th) {
    note(lab, 'slowDisk', 'no writable cgroup (v1 blkio/cpu or v2 io/cpu) on this machine: not throttled');
    await sleep(Math.min(30_000, Math.max(1000, remaining(lab))));
    return;
  }
  lab.cleanups.push(th.release);
  const done = begin(lab, `slow disk etcd ${victim}${victim === leader ? ' (leader)' : ''}: ${th.how}`);
  const hold = Math.min(40_000 + lab.rand() * 20_000, Math.max(10_000, remaining(lab)));
  await sleep(hold);
  const during = await diskSample(lab, victim);
  th.release();
  note(lab, 'slowDisk', { host: victim, leader: victim === leader, how: th.how, heldMs: Math.round(hold), fsyncMeanMs: { before: meanMs(before?.fsync, base?.fsync), throttled: meanMs(base?.fsync, during?.fsync) }, commitMeanMs: { before: meanMs(before?.commit, base?.commit), throttled: meanMs(base?.commit, during?.commit) } });
  await waitWhole(lab);
  done();
}

// ---- a backup directory that fills up ----

/** A small tmpfs as the backup target: half the member's database, so the snapshot cannot fit. */
export async function backupIntoFullDisk(lab: Lab): Promise<void> {
  const mnt = join(lab.work, `full-${Date.now()}`);
  mkdirSync(mnt, { recursive: true });
  const st = await endpointStatuses(quick(lab));
  const dbBytes = Math.max(0, ...st.map((x) => Number(x.status?.dbSize ?? 0)));
  const sizeKiB = Math.max(64, Math.floor(dbBytes / 2048));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    note(lab, 'backupFull', `cannot mount a tmpfs here (${m.stderr.trim()}): not run`);
    await sleep(Math.min(30_000, Math.max(1000, remaining(lab))));
    return;
  }
  const umount = () => void spawnSync('umount', ['-l', mnt]);
  lab.cleanups.push(umount);
  const done = begin(lab, `backup into a ${sizeKiB} KiB tmpfs`);
  const r = await cli(lab, ['backup', join(mnt, 'backup')], 180_000);
  const left = existsSync(join(mnt, 'backup')) ? readdirSync(join(mnt, 'backup')) : [];
  const stderr = r.stderr.trim();
  note(lab, 'backupFull', { tmpfsKiB: sizeKiB, dbBytes, exit: r.code, stderrLines: stderr ? stderr.split('\n').length : 0, error: stderr.split('\n')[0]?.slice(0, 300), left });
  // The same backup into a roomy folder must still work: the failure left nothing broken.
  const ok = await cli(lab, ['backup', join(lab.work, `after-full-${Date.now()}`)], 180_000);
  note(lab, 'backupAfterFull', ok.code);
  umount();
  done(`exit ${r.code}; a backup elsewhere then exited ${ok.code}`);
}

// ---- operations ----

export async function defrag(lab: Lab): Promise<void> {
  const done = begin(lab, 'etcd-ops defrag --cluster');
  const r = await cli(lab, ['defrag', '--cluster', '--rule', 'dbSize > 0'], 300_000);
  note(lab, 'defrag', r.code === 0 ? 'ok' : `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  done(`exit ${r.code}`);
}

export async function compact(lab: Lab): Promise<void> {
  const at = lab.rec.now();
  const done = begin(lab, 'etcd-ops compact');
  const r = await cli(lab, ['compact']);
  const rev = Number(/compacted revision (\d+)/.exec(r.stdout)?.[1]);
  if (rev > 0) lab.rec.special({ kind: 'compaction', at, revision: rev });
  note(lab, 'compact', r.code === 0 ? rev : `exit ${r.code}`);
  // Watchers behind the compaction only find out when they resume: make them resume now.
  const dropped = lab.traffic?.dropWatches() ?? 0;
  done(`exit ${r.code}; ${dropped} watch streams cut`);
}

export async function backup(lab: Lab): Promise<string | undefined> {
  const dir = join(lab.work, `backup-${Date.now()}`);
  const done = begin(lab, 'etcd-ops backup');
  const r = await cli(lab, ['backup', dir], 300_000);
  note(lab, 'backup', r.code === 0 ? 'ok' : `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  done(`exit ${r.code}`);
  return r.code === 0 ? dir : undefined;
}

type Report = Awaited<ReturnType<typeof encryptionReport>>;
const KAS = 'openshift-kube-apiserver';
type Component = Report['components'][number];
const idOf = (k: Component['keys'][number]) => Number(/-(\d+)$/.exec(k.name)?.[1] ?? 0);
const newestKey = (c: Component) => [...c.keys].sort((a, b) => idOf(b) - idOf(a))[0];
const keyId = (r: Report) => {
  const k = newestKey(r.components.find((c) => c.component === KAS) ?? r.components[0]!);
  return k ? idOf(k) : 0;
};
/**
 * Every component writes with its newest key, that key is stamped migrated for all its resources,
 * and the Encrypted condition says so: the rotation (and its migration) is over.
 */
const settled = (r: Report) =>
  r.components.every((c) => {
    const k = newestKey(c);
    return (
      !!k &&
      c.writeKey === `${k.mode}:${idOf(k)}` &&
      !!k.migratedTimestamp &&
      c.resources.every((res) => k.migratedResources.includes(res)) &&
      c.conditions.find((x) => x.type === 'Encrypted')?.reason === 'EncryptionCompleted'
    );
  });

export async function report(lab: Lab): Promise<Report | undefined> {
  try {
    return await encryptionReport(lab.kube);
  } catch {
    return undefined;
  }
}

/** Enables aescbc and waits until every resource is encrypted (setup, before the traffic). */
export async function enableEncryption(lab: Lab, wait = true): Promise<boolean> {
  const r = await cli(lab, ['encryption', 'enable', 'aescbc', ...(wait ? ['--wait', '--timeout', '5m'] : [])], 330_000);
  return r.code === 0;
}

export async function waitEncrypted(lab: Lab, timeoutMs: number, minKey = 1): Promise<Report | undefined> {
  return poll(timeoutMs, async () => {
    const r = await report(lab);
    return r && keyId(r) >= minKey && settled(r) ? r : undefined;
  }, 1000);
}

/**
 * `encryption rotate`, and its migration: a migration special from the request to the end of the
 * run (the operator may rewrite any object meanwhile). `during` runs once the new key exists,
 * while the rollout and migration are under way (the operator kill of kill-operator-rotate).
 */
export async function rotate(lab: Lab, during?: () => Promise<void>): Promise<void> {
  const before = await report(lab);
  const from = before ? keyId(before) : 0;
  const start = lab.rec.now();
  lab.rec.special({ kind: 'migration', start, end: Infinity });
  const done = begin(lab, 'etcd-ops encryption rotate');
  const at = Date.now();
  const r = await cli(lab, ['encryption', 'rotate']);
  if (r.code !== 0) {
    done(`exit ${r.code}`);
    return;
  }
  if (during) {
    await poll(60_000, async () => {
      const x = await report(lab);
      return x && keyId(x) > from ? true : undefined;
    }, 500);
    await during();
  }
  const after = await waitEncrypted(lab, Math.max(240_000, remaining(lab)), from + 1);
  note(lab, 'rotationMs', after ? Date.now() - at : null);
  done(after ? `key ${keyId(after)} written and migrated after ${Date.now() - at} ms` : 'not settled in time');
}

/** `etcd-ops restore BACKUP --yes`: a restore special with the backup's revision. */
export async function restore(lab: Lab, dir: string, backupRevision: number): Promise<boolean> {
  const start = lab.rec.now();
  const done = begin(lab, 'etcd-ops restore');
  const at = Date.now();
  const r = await cli(lab, ['restore', dir, '--yes'], 900_000);
  const end = lab.rec.now();
  // "restored member …: revision R, bumped to B …; the next write gets B+1": the restored
  // cluster serves revision B before any write (a list's rv), so B is the first it hands out,
  // above every revision of the old cluster (history.ts, firstRevision).
  const first = Number(/bumped to (\d+)/.exec(r.stdout)?.[1]);
  for (const l of r.stdout.split('\n').filter((x) => /^\[\d+(\/\d+)?\]|^restored member|^bumping/.test(x))) lab.log(`  restore: ${l.slice(0, 160)}`);
  note(lab, 'restore', r.code === 0 ? { ms: Date.now() - at, backupRevision, firstRevision: first || null } : `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
  // A restore that failed after it restored the member (a later step timed out) still replaced
  // the data: the history must say so, or every read after it looks wrong.
  if (r.code === 0 || first > 0) lab.rec.special({ kind: 'restore', start, end, backupRevision, ...(first > 0 ? { firstRevision: first } : {}) });
  done(`exit ${r.code}`);
  return r.code === 0;
}

/** The revision of the newest snapshot in a backup directory (`etcd-ops snapshot status`). */
export async function snapshotRevision(lab: Lab, dir: string): Promise<number | undefined> {
  const snap = readdirSync(dir).filter((f) => /^snapshot_.*\.db$/.test(f)).sort().pop();
  if (!snap) return undefined;
  // `snapshot status` reads a file: it takes no --home, which lab.t.cli always adds.
  const r = await runCli(['snapshot', 'status', join(dir, snap), '-w', 'json'], { timeoutMs: 60_000 });
  lab.log(`etcd-ops snapshot status ${snap} → ${r.code}${r.code ? `: ${r.stderr.trim()}` : ''}`);
  try {
    return Number(JSON.parse(r.stdout).revision);
  } catch {
    return undefined;
  }
}

/** Heals and restarts whatever a fault left down, then waits until the control plane is whole. */
export async function recover(lab: Lab): Promise<boolean> {
  for (const c of lab.cleanups.splice(0)) {
    try {
      c();
    } catch {}
  }
  const { isIsolated } = await import('../../src/controlplane/network.js');
  const { runningAgent } = await import('../../src/agent/control.js');
  for (const h of hosts(lab)) {
    if (isIsolated(lab.t.cluster, h)) await cli(lab, ['host', 'heal', h]);
    if (!runningAgent(lab.t.home, h)) await cli(lab, ['host', 'start', h]);
  }
  return waitWhole(lab, 180_000);
}
