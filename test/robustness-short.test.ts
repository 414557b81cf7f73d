/**
 * The robustness suite, short and seeded (README "Robustness"): one home, two scenarios at once,
 * each with its own traffic and namespaces and checked by the history checker: the etcd leader
 * SIGKILLed while `defrag --cluster` runs, and the active operator SIGKILLed during an encryption
 * rotation, which must still complete with every stored value under the new write key. They run
 * together to stay within the suite's budget (the rotation's rollouts take most of the time), so
 * each history also carries the other's faults. `npm run robustness` runs them all, for longer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers/cleanup.js';
import { upHome, type TestHome } from './helpers/home.js';
import { passed, runScenario, type ScenarioResult } from './robustness/runner.js';

const SEED = 1515;

function explain(r: ScenarioResult): string {
  return JSON.stringify({ verdict: r.verdict, notes: r.notes, encryption: r.encryption, error: r.error, finalList: r.finalList, readable: r.readable, result: r.files.result }, null, 1);
}

describe('robustness, short and seeded', { timeout: 300_000 }, () => {
  let t: TestHome;
  const out = tempDir('etcd-ops-robustness-');
  const t0 = Date.now();
  const log = (name: string) => (l: string) => process.stdout.write(`# ${((Date.now() - t0) / 1000).toFixed(0)}s [${name}] ${l}\n`);
  let leaderDefrag: Promise<ScenarioResult>;
  let operatorRotate: Promise<ScenarioResult>;
  before(async () => {
    t = await upHome();
    // Encryption comes on while the first scenario runs (its migration is part of that history);
    // the second waits until it is done, then rotates.
    const r = await t.cli(['encryption', 'enable', 'aescbc']);
    assert.equal(r.code, 0, r.stderr);
    leaderDefrag = runScenario({ scenario: 'kill-leader-defrag', durationMs: 10_000, seed: SEED, out, settleMs: 3000, home: t, migrating: true, log: log('kill-leader-defrag') });
    operatorRotate = runScenario({ scenario: 'kill-operator-rotate', durationMs: 3000, seed: SEED, out, settleMs: 3000, home: t, log: log('kill-operator-rotate') });
    // Both are awaited by the tests below; a rejection is theirs to report, not an unhandled one.
    leaderDefrag.catch(() => {});
    operatorRotate.catch(() => {});
  });
  after(async () => {
    await Promise.allSettled([leaderDefrag, operatorRotate]);
    await t?.destroy();
  });

  it('SIGKILL of the etcd leader during defrag --cluster: a linearizable history, watches without gaps', async () => {
    const r = await leaderDefrag;
    assert.ok(passed(r), explain(r));
    assert.ok(r.figures.outcomes.ok >= 50, `traffic happened: ${JSON.stringify(r.figures.outcomes)}`);
    assert.ok(r.stats.watches.events > 0 && r.stats.versions > 0);
    assert.ok((r.notes.newLeaderMs ?? []).some((x) => typeof x === 'number'), `a leader was killed and a new one elected (a later raft term): ${explain(r)}`);
    // Each defrag either ran or refused because the killed member was still down (by design: it
    // refuses while a member is unhealthy); nothing else.
    const defrags = (r.notes.defrag ?? []) as string[];
    assert.ok(defrags.length > 0 && defrags.every((d) => d === 'ok' || /is unhealthy: refusing to defragment/.test(d)), `a defrag ran or refused for a member down: ${explain(r)}`);
    log('kill-leader-defrag')(`${r.figures.ops} requests, ${r.figures.opsPerSecond}/s, p99 ${r.figures.latency.p99} ms, no write for ${r.figures.unavailable.writes.ms} ms at most`);
  });

  it('SIGKILL of the active operator during encryption rotate: the rotation completes, every value under the new key', async () => {
    const r = await operatorRotate;
    assert.ok(passed(r), explain(r));
    assert.ok(r.figures.outcomes.ok >= 50, `traffic happened: ${JSON.stringify(r.figures.outcomes)}`);
    assert.ok((r.notes.operatorFailoverMs ?? []).some((x) => typeof x === 'number'), `the operator leader was killed and another took over: ${explain(r)}`);
    assert.ok((r.notes.rotationMs ?? []).some((x) => typeof x === 'number'), `the rotation settled: ${explain(r)}`);
    assert.ok(r.encryption && r.encryption.checked > 0 && r.encryption.notWithWriteKeyCount === 0 && /^aescbc:[2-9]/.test(r.encryption.writeKey ?? ''), explain(r));
    log('kill-operator-rotate')(`${r.figures.ops} requests, operator fail-over ${r.notes.operatorFailoverMs} ms, rotation ${r.notes.rotationMs} ms`);
  });
});
