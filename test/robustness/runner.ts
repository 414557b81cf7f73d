/**
 * Runs a scenario: a fresh home (or a given one), namespaces for the traffic, the traffic, the
 * scenario's faults until its time is up, recovery, the closing lists, the checks (history,
 * encryption at rest), the figures. Writes `<out>/<scenario>/history.json` and `result.json`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withAnyEndpoint } from '../../src/etcd/connection.js';
import { CORE, type KubeClient } from '../../src/kube/client.js';
import { upHome, type TestHome } from '../helpers/home.js';
import { adminClient } from '../helpers/kube.js';
import { targetsOf } from './api.js';
import { check, unencryptedKeys } from './checker.js';
import { enableEncryption, recover, report, sleep, waitEncrypted, type Lab } from './faults.js';
import { figures, verdict, type Figures, type Verdict } from './figures.js';
import { Recorder } from './recorder.js';
import { scenario as findScenario } from './scenarios.js';
import { rng } from './simulate.js';
import { DEFAULT_TRAFFIC, Traffic, type TrafficOptions } from './traffic.js';

export interface RunOptions {
  scenario: string;
  /** How long the faults go on (the traffic runs a little longer: warm-up, recovery). */
  durationMs: number;
  seed: number;
  /** Results folder: `<out>/<scenario>/`. */
  out: string;
  /** Wait after the traffic stops before the closing lists (longer than the API's request timeout). */
  settleMs?: number;
  traffic?: Partial<TrafficOptions>;
  /** Reuse this home instead of bringing up a fresh one (it is not destroyed). */
  home?: TestHome;
  /** An encryption migration may be under way when the traffic starts (the caller enabled encryption). */
  migrating?: boolean;
  log?: (line: string) => void;
}

export interface EncryptionCheck {
  writeKey?: string;
  /** Stored configmaps and secrets read from etcd at the end. */
  checked: number;
  /** How many were not written with the current write key (must be none once the migration is done). */
  notWithWriteKeyCount: number;
  /** The first of them. */
  notWithWriteKey: string[];
  settled: boolean;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  seed: number;
  durationMs: number;
  figures: Figures;
  verdict: Verdict;
  stats: ReturnType<typeof check>['stats'];
  /** Every object readable through the API at the end (configmaps and secrets of every namespace). */
  readable: boolean;
  encryption?: EncryptionCheck;
  finalList: boolean;
  recovered: boolean;
  faults: Array<{ what: string; start: number; end: number }>;
  notes: Record<string, unknown[]>;
  byDesign?: string;
  /** 1-minute load average when the run began and ended: the machine is shared. */
  load: { start: number; end: number };
  /** Wall time of the whole run, home included. */
  wallMs: number;
  error?: string;
  files: { history: string; result: string };
}

/** A run passes when the history checks, the end state is readable, and encryption (if any) holds. */
export function passed(r: ScenarioResult): boolean {
  return r.verdict.ok && r.readable && r.finalList && !r.error && (!r.encryption || (r.encryption.settled && r.encryption.notWithWriteKeyCount === 0));
}

export async function runScenario(o: RunOptions): Promise<ScenarioResult> {
  const sc = findScenario(o.scenario);
  const began = Date.now();
  const load0 = loadavg()[0]!;
  const log = o.log ?? ((l: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} [${sc.name}] ${l}\n`));
  const dir = join(o.out, sc.name);
  mkdirSync(dir, { recursive: true });
  log(`seed ${o.seed}, ${o.durationMs / 1000} s of faults${o.home ? '' : '; bringing up a home'}`);
  // One more try when a home does not come up: on a loaded machine its first start can time out.
  const t = o.home ?? (await upHome().catch((err: Error) => (log(`home failed (${err.message.split('\n')[0]}): once more`), upHome())));
  const kube = adminClient(t);
  const rec = new Recorder();
  const lab: Lab = {
    t,
    kube,
    rec,
    rand: rng(o.seed),
    log,
    until: Infinity,
    notes: {},
    cleanups: [],
    work: mkdtempSync(join(tmpdir(), 'etcd-ops-robustness-')),
  };
  const undo = () => lab.cleanups.splice(0).forEach((c) => c());
  process.on('exit', undo);
  let traffic: Traffic | undefined;
  let error: string | undefined;
  let recovered = false;
  let finalList = false;
  let readable = false;
  let encryption: EncryptionCheck | undefined;
  try {
    if (sc.encryption && !(await waitEncrypted(lab, 1000))) {
      log('enabling aescbc encryption before the traffic');
      if (!(await enableEncryption(lab))) throw new Error('encryption enable aescbc --wait failed');
    }
    const suffix = `${o.seed}-${Date.now().toString(36).slice(-4)}`;
    const namespaces = ['a', 'b'].map((x) => `rb-${sc.name}-${suffix}-${x}`.slice(0, 63));
    for (const ns of namespaces) await kube.create(CORE('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const targets = targetsOf(join(t.home, 'kubeconfig'), [{ name: 'lb', url: t.cluster.apiServer.url }, ...t.cluster.hosts.map((h) => ({ name: h.name, url: h.apiServerURL }))]);
    traffic = new Traffic(rec, { ...DEFAULT_TRAFFIC, ...o.traffic, seed: o.seed, namespaces, targets, log });
    lab.traffic = traffic;
    if (o.migrating) rec.special({ kind: 'migration', start: 0, end: Infinity });
    traffic.start();
    await sleep(2000);
    lab.until = Date.now() + o.durationMs;
    try {
      await sc.run(lab);
    } catch (err) {
      error = `scenario: ${(err as Error).stack ?? err}`;
      log(error);
    }
    log('faults over: healing whatever is still broken');
    recovered = await recover(lab);
    await traffic.stop();
    const now = rec.now();
    for (const s of rec.history.specials) if (s.kind === 'migration' && s.end === Infinity) s.end = now;
    log(`traffic stopped; closing lists after ${(o.settleMs ?? 25_000) / 1000} s`);
    finalList = await traffic.finalLists(o.settleMs ?? 25_000);
    readable = await everythingReadable(kube);
    if (sc.encryption) encryption = await encryptionAtRest(lab);
  } catch (err) {
    error = (err as Error).stack ?? String(err);
    log(`failed: ${error}`);
  } finally {
    traffic?.close();
    undo();
    process.off('exit', undo);
    kube.close();
    if (!o.home) await t.destroy();
  }
  const checked = check(rec.history);
  const files = { history: join(dir, 'history.json'), result: join(dir, 'result.json') };
  writeFileSync(files.history, JSON.stringify(rec.history));
  const result: ScenarioResult = {
    scenario: sc.name,
    description: sc.description,
    seed: o.seed,
    durationMs: o.durationMs,
    figures: figures(rec.history),
    verdict: verdict(checked),
    stats: checked.stats,
    readable,
    ...(encryption ? { encryption } : {}),
    finalList,
    recovered,
    faults: rec.history.specials.filter((s) => s.kind === 'fault').map((s) => ({ what: (s as { what: string }).what, start: Math.round((s as { start: number }).start), end: Math.round((s as { end: number }).end) })),
    notes: lab.notes,
    ...(sc.byDesign ? { byDesign: sc.byDesign } : {}),
    load: { start: load0, end: loadavg()[0]! },
    wallMs: Date.now() - began,
    ...(error ? { error } : {}),
    files,
  };
  writeFileSync(files.result, JSON.stringify({ ...result, violations: checked.violations, warnings: checked.warnings }, null, 2));
  log(`${passed(result) ? 'PASS' : 'FAIL'}: ${result.figures.ops} requests, ${result.verdict.violations} violations; ${files.result}`);
  return result;
}

/** Every configmap and secret of every namespace lists through the API: nothing undecryptable. */
async function everythingReadable(kube: KubeClient): Promise<boolean> {
  for (const r of ['configmaps', 'secrets']) {
    let ok = false;
    for (let i = 0; i < 10 && !ok; i++) {
      try {
        await kube.list(CORE(r));
        ok = true;
      } catch {
        await sleep(2000);
      }
    }
    if (!ok) return false;
  }
  return true;
}

/** After the last rotation settled: every stored configmap and secret carries the write key's prefix. */
async function encryptionAtRest(lab: Lab): Promise<EncryptionCheck> {
  const settled = await waitEncrypted(lab, 240_000);
  const r = settled ?? (await report(lab));
  const kas = r?.components.find((c) => c.component === 'openshift-kube-apiserver');
  const writeKey = kas?.writeKey;
  const m = /^(\w+):(\d+)$/.exec(writeKey ?? '');
  const values: Array<{ key: string; value: Uint8Array }> = [];
  for (const prefix of ['/kubernetes.io/configmaps/', '/kubernetes.io/secrets/']) {
    const kvs = await withAnyEndpoint(lab.t.conn, (c) => c.getAll().prefix(prefix).exec());
    for (const kv of kvs.kvs) values.push({ key: kv.key.toString(), value: kv.value });
  }
  const notWithWriteKey = m ? unencryptedKeys(values, `k8s:enc:${m[1]}:v1:${m[2]}:`) : values.map((v) => v.key);
  return { writeKey, checked: values.length, notWithWriteKeyCount: notWithWriteKey.length, notWithWriteKey: notWithWriteKey.slice(0, 20), settled: !!settled };
}
