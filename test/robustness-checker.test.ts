import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check, RULES, unencryptedKeys, type CheckResult, type RuleName } from './robustness/checker.js';
import type { History, Operation } from './robustness/history.js';
import { Sketch, type EventSketch } from './robustness/sketch.js';
import { rng, simulate } from './robustness/simulate.js';

const A = 'ns/a';
const B = 'ns/b';
const C = 'ns/c';
const BUMP = 1_000_000_000;

function accepts(h: History): CheckResult {
  const r = check(h);
  assert.deepEqual(r.violations, [], JSON.stringify(r.violations, null, 1));
  assert.equal(r.ok, true);
  return r;
}

const rejected = new Set<RuleName>();

/** Rejected for exactly these rules (each violation names one of them, and each rule appears). */
function rejects(h: History, ...rules: RuleName[]): CheckResult {
  const r = check(h);
  for (const v of r.violations) if (rules.includes(v.rule)) rejected.add(v.rule);
  assert.equal(r.ok, false, 'the checker accepted it');
  assert.deepEqual([...new Set(r.violations.map((v) => v.rule))].sort(), [...rules].sort(), JSON.stringify(r.violations, null, 1));
  for (const v of r.violations) assert.ok(v.refs.length > 0 && v.message.length > 0);
  return r;
}

/** a created at rv 2 by c1 during [0, 5]; returns its value. */
function created(s: Sketch, key = A, rv = 2, span: [number, number] = [0, 5]): string {
  return s.create('c1', key, span, rv);
}

describe('the checker accepts what a linearizable store may do', () => {
  it('sequential writes, CAS, delete and re-create, reads and a final list', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.get('c2', A, [6, 7], [2, v0]);
    const v1 = s.update('c1', A, [8, 10], 3, 2);
    s.get('c2', A, [11, 12], [3, v1]);
    s.delete('c2', A, [13, 15], 4, { precondition: 3, value: v1 });
    s.get('c1', A, [16, 17], 404);
    s.update('c1', A, [18, 19], { code: 404, reason: 'NotFound' });
    const v2 = s.create('c1', A, [20, 22], 5);
    s.create('c2', A, [23, 24], { code: 409, reason: 'AlreadyExists' });
    s.list('c2', [25, 26], 5, [[A, 5, v2]]);
    s.list('f', [50, 51], 5, [[A, 5, v2]], { final: true });
    const r = accepts(s.build());
    assert.equal(r.stats.writes.ok, 4);
    assert.equal(r.stats.writes.failed, 2);
    assert.equal(r.stats.reads.notFound, 1);
    assert.equal(r.stats.versions, 4);
  });

  for (const firstWins of [true, false]) {
    it(`two overlapping writes, linearized ${firstWins ? 'in start order' : 'against start order'}`, () => {
      const s = new Sketch();
      const v0 = created(s);
      const x = s.update('c1', A, [10, 20], firstWins ? 3 : 4);
      const y = s.update('c2', A, [12, 22], firstWins ? 4 : 3);
      const [early, late] = firstWins ? [x, y] : [y, x];
      s.get('c3', A, [11, 13], [2, v0]); // before either took effect
      s.get('c4', A, [14, 16], [3, early]);
      s.get('c3', A, [17, 19], [4, late]);
      s.get('c4', A, [23, 24], [4, late]);
      s.list('f', [30, 31], 4, [[A, 4, late]], { final: true });
      accepts(s.build());
    });
  }

  it('unknown outcomes: applied (even after the client gave up), not applied, seen only by a list', () => {
    const s = new Sketch();
    const a0 = created(s);
    const b0 = s.create('c5', B, [0, 6], 3);
    const a1 = s.update('c2', A, [10, 20], 'unknown');
    s.update('c3', B, [10, 20], 'unknown'); // never applied
    s.get('c4', A, [30, 31], [4, a1]);
    s.get('c4', B, [32, 33], [3, b0]);
    const c0 = s.create('c3', C, [34, 40], 'unknown');
    const a2 = s.update('c2', A, [41, 45], 'unknown', 4); // applied at rv 6, after it timed out
    s.get('c4', A, [50, 51], [6, a2]);
    s.list('f', [60, 61], 6, [[A, 6, a2], [B, 3, b0], [C, 5, c0]], { final: true });
    const r = accepts(s.build());
    assert.equal(r.stats.writes.unknown, 4);
    assert.equal(r.stats.writes.unknownApplied, 3);
    void a0;
  });

  it('an unknown-outcome delete explains a later 404 and a missing key in the final list', () => {
    const s = new Sketch();
    created(s);
    s.delete('c2', A, [10, 20], 'unknown');
    s.get('c1', A, [25, 26], 404);
    s.list('f', [30, 31], 3, [], { final: true });
    accepts(s.build());
  });

  it('refusals with a cause: 409 on a stale precondition, 409 while another write raced, AlreadyExists', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.get('c1', A, [6, 7], [2, v0]);
    s.update('c2', A, [8, 12], 3);
    s.update('c1', A, [10, 15], { code: 409, reason: 'Conflict' }, 2); // raced with c2
    s.update('c1', A, [16, 20], { code: 409, reason: 'Conflict' }, 2); // c2's write was done
    s.delete('c3', A, [11, 13], { code: 409, reason: 'Conflict' }); // unconditional delete lost a race
    s.create('c3', A, [21, 22], { code: 409, reason: 'AlreadyExists' });
    const v1 = s.update('c1', A, [23, 25], 4, 3);
    s.list('f', [30, 31], 4, [[A, 4, v1]], { final: true });
    accepts(s.build());
  });

  it('a watch sees every change once, in order, with its type; writes to two keys may share a revision', () => {
    const s = new Sketch();
    const v0 = created(s);
    const v1 = s.update('c1', A, [6, 8], 3);
    s.delete('c1', A, [9, 10], 4, { value: v1 });
    const v2 = s.create('c1', A, [11, 12], 5);
    const b0 = s.create('c2', B, [13, 16], 6); // one etcd transaction for both (group commit)
    const c0 = s.create('c3', C, [14, 17], 6);
    s.watch('w1', 'w', 1, [0, 100], [
      ['ADDED', A, 2, v0, 5],
      ['MODIFIED', A, 3, v1, 8],
      ['DELETED', A, 4, v1, 10],
      ['ADDED', A, 5, v2, 12],
      ['BOOKMARK', 5, 13],
      ['ADDED', B, 6, b0, 17],
      ['ADDED', C, 6, c0, 17],
      ['BOOKMARK', 6, 30],
    ]);
    s.list('f', [40, 41], 6, [[A, 5, v2], [B, 6, b0], [C, 6, c0]], { final: true });
    const r = accepts(s.build());
    assert.equal(r.stats.watches.events, 6);
    assert.equal(r.stats.watches.bookmarks, 2);
  });

  it('a watch resumed after a disconnect continues with the first change after its last rv', () => {
    const s = new Sketch();
    const v0 = created(s);
    const v1 = s.update('c1', A, [6, 8], 3);
    const v2 = s.update('c1', A, [12, 14], 4);
    s.watch('w1', 'w', 1, [0, 10], [['ADDED', A, 2, v0, 5], ['MODIFIED', A, 3, v1, 8]]);
    s.watch('w2', 'w', 3, [11, 30], [['MODIFIED', A, 4, v2, 15]], { kind: 'closed' }, { resumeOf: 'w1' });
    accepts(s.build());
  });

  it('a watch that gets 410 after a compaction relists and watches from the list', () => {
    const s = new Sketch();
    const v0 = created(s, A, 2, [0, 2]);
    const v1 = s.update('c1', A, [3, 5], 3);
    const v2 = s.update('c1', A, [6, 8], 4);
    const v3 = s.update('c1', A, [12, 14], 5);
    s.watch('w1', 'w', 1, [1, 10], [['ADDED', A, 2, v0, 3], ['MODIFIED', A, 3, v1, 6]], { kind: 'gone', message: 'too old resource version' });
    s.compaction(9, 4);
    s.list('w', [10.5, 11], 4, [[A, 4, v2]]);
    s.watch('w2', 'w', 4, [11.5, 30], [['MODIFIED', A, 5, v3, 15]], { kind: 'closed' }, { resumeOf: 'w1' });
    s.list('f', [40, 41], 5, [[A, 5, v3]], { final: true });
    const r = accepts(s.build());
    assert.deepEqual(r.warnings, []);
    assert.equal(r.stats.watches.gone, 1);
  });

  it('a 410 that no recorded compaction explains is a warning, not a violation', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.watch('w1', 'w', 1, [1, 10], [['ADDED', A, 2, v0, 5]], { kind: 'gone' });
    s.list('f', [40, 41], 2, [[A, 2, v0]], { final: true });
    const r = accepts(s.build());
    assert.deepEqual(r.warnings.map((w) => w.rule), ['unexplained-410']);
  });

  it('a restore loses the writes after its backup; reads after it see the backup, revisions jump', () => {
    const s = new Sketch();
    created(s, A, 2, [0, 5]);
    const v1 = s.update('c1', A, [6, 10], 3);
    const v2 = s.update('c1', A, [11, 15], 4); // after the backup at rv 3: lost
    s.create('c2', B, [12, 16], 5); // lost too: b did not exist at rv 3
    s.watch('w1', 'w', 3, [11, 21], [['MODIFIED', A, 4, v2, 15]], { kind: 'error', message: 'connection reset' }, { scope: { name: 'a' } });
    s.restore([20, 40], 3);
    s.get('c2', A, [41, 42], [3, v1]);
    s.get('c2', B, [43, 44], 404);
    s.list('c1', [45, 46], BUMP + 5, [[A, 3, v1]]);
    s.watch('w2', 'w', 4, [47, 48], [], { kind: 'gone' }, { resumeOf: 'w1', scope: { name: 'a' } }); // from before the restore: 410
    const v3 = s.update('c1', A, [47, 50], BUMP + 6, 3);
    s.list('f', [60, 61], BUMP + 6, [[A, BUMP + 6, v3]], { final: true });
    const r = accepts(s.build());
    assert.equal(r.stats.expectedLost, 2);
    assert.deepEqual(r.warnings, []);
  });

  it('a long restore with its first revision: writes in its first steps (old cluster) and last (restored) are placed by revision', () => {
    const build = (first?: number) => {
      const s = new Sketch();
      created(s, A, 2, [0, 5]);
      const v1 = s.update('c1', A, [6, 10], 3);
      s.restore([20, 60], 3, first);
      s.update('c1', A, [21, 23], 4, 3); // the old cluster still serves: lost by the restore
      s.create('c2', B, [22, 24], 5); // lost too
      const v2 = s.update('c1', A, [50, 52], BUMP + 4, 3); // the restored cluster, from the backup's rv 3
      s.get('c2', A, [70, 71], [BUMP + 4, v2]);
      s.list('f', [80, 81], BUMP + 4, [[A, BUMP + 4, v2]], { final: true });
      void v1;
      return s.build();
    };
    const r = accepts(build(BUMP + 4));
    assert.equal(r.stats.expectedLost, 2);
    // Without it, the old cluster's writes during the restore look like the restored cluster's.
    assert.ok(!check(build()).ok);
  });

  it('two restores: the second from a backup taken after the first; a read during a restore is left out', () => {
    const s = new Sketch();
    const a0 = s.create('c1', A, [0, 5], 2);
    const b0 = s.create('c1', B, [6, 8], 3);
    s.update('c1', A, [9, 10], 4); // lost by the first restore (backup at rv 3)
    s.restore([20, 30], 3);
    s.get('c2', A, [25, 35], [2, a0]); // overlaps the restore: cannot be placed
    const a1 = s.update('c1', A, [31, 33], BUMP + 5, 2);
    s.delete('c1', B, [34, 36], BUMP + 6, { value: b0, precondition: 3 });
    s.update('c1', A, [37, 38], BUMP + 7); // lost by the second restore
    s.restore([40, 50], BUMP + 6);
    s.get('c2', A, [51, 52], [BUMP + 5, a1]);
    s.get('c2', B, [53, 54], 404);
    s.list('c2', [55, 56], 2 * BUMP, [[A, BUMP + 5, a1]]);
    const b1 = s.create('c1', B, [57, 58], 2 * BUMP + 1);
    s.list('f', [60, 61], 2 * BUMP + 1, [[A, BUMP + 5, a1], [B, 2 * BUMP + 1, b1]], { final: true });
    const r = accepts(s.build());
    assert.equal(r.stats.restores, 2);
    assert.equal(r.stats.expectedLost, 2);
    assert.equal(r.stats.ambiguous, 1);
  });

  it('an encryption migration may rewrite an object with its own value under a new rv', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.migration([10, 30]);
    s.watch('w1', 'w', 2, [0, 40], [['MODIFIED', A, 7, v0, 20]]);
    s.update('c1', A, [21, 23], { code: 409, reason: 'Conflict' }, 2);
    s.get('c2', A, [25, 26], [7, v0]);
    s.list('f', [50, 51], 9, [[A, 7, v0]], { final: true });
    accepts(s.build());
  });
});

describe('the checker rejects what a linearizable store may not do', () => {
  it('stale read: a read after an acknowledged write returns the older value', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.update('c1', A, [6, 10], 3);
    s.get('c2', A, [12, 13], [2, v0]);
    rejects(s.build(), 'stale-read');
  });

  it('non-linearizable interleaving: a later reader sees the old value after another saw the new one', () => {
    const s = new Sketch();
    const v0 = created(s);
    const v1 = s.update('c2', A, [10, 40], 3); // still in flight during both reads
    s.get('c3', A, [12, 14], [3, v1]);
    s.get('c4', A, [16, 18], [2, v0]);
    const r = rejects(s.build(), 'stale-read');
    assert.deepEqual(r.violations[0]!.refs.sort(), ['c3#0', 'c4#0']);
  });

  it('read of the future: a read returns a write that began after the read ended', () => {
    const s = new Sketch();
    created(s);
    const v1 = s.update('c1', A, [10, 15], 3);
    s.get('c2', A, [6, 7], [3, v1]);
    rejects(s.build(), 'read-future');
  });

  it('lost acknowledged write: the final list shows an older version', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.update('c1', A, [6, 10], 3);
    s.list('f', [50, 51], 3, [[A, 2, v0]], { final: true });
    const r = rejects(s.build(), 'lost-write');
    assert.ok(r.violations[0]!.refs.includes('c1#1'));
  });

  it('lost acknowledged write: the final list misses a created key', () => {
    const s = new Sketch();
    created(s);
    created(s, B, 3, [6, 8]);
    s.list('f', [50, 51], 3, [[A, 2, 'c1-0']], { final: true });
    rejects(s.build(), 'lost-write');
  });

  it('CAS that skipped a version', () => {
    const s = new Sketch();
    created(s);
    s.update('c2', A, [6, 10], 3);
    s.update('c1', A, [11, 15], 4, 2);
    rejects(s.build(), 'cas-precondition');
  });

  it('value mismatch at an rv', () => {
    const s = new Sketch();
    created(s);
    const v1 = s.update('c1', A, [6, 10], 3);
    s.get('c2', A, [11, 12], [2, v1]);
    rejects(s.build(), 'value-mismatch');
  });

  it('an acknowledged write applied twice (its value at two rvs, no migration)', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.get('c2', A, [11, 12], [5, v0]);
    rejects(s.build(), 'value-mismatch');
  });

  it('a definitely failed write becomes visible', () => {
    const s = new Sketch();
    created(s);
    const v1 = s.update('c1', A, [6, 10], { code: 422, reason: 'Invalid' });
    s.get('c2', A, [11, 12], [3, v1]);
    rejects(s.build(), 'failed-write-visible');
  });

  it('a value nobody wrote', () => {
    const s = new Sketch();
    created(s);
    s.get('c2', A, [11, 12], [3, 'zz-9']);
    rejects(s.build(), 'phantom-write');
  });

  it('NotFound while the key certainly existed', () => {
    const s = new Sketch();
    created(s);
    s.get('c2', A, [10, 11], 404);
    s.delete('c2', A, [12, 13], { code: 404, reason: 'NotFound' });
    rejects(s.build(), 'absent-read');
  });

  it('a 409 with no cause: nothing changed the key, or it could not exist', () => {
    const s = new Sketch();
    created(s);
    s.update('c1', A, [10, 15], { code: 409, reason: 'Conflict' }, 2);
    s.delete('c2', A, [16, 17], { code: 409, reason: 'Conflict' });
    s.create('c2', B, [18, 19], { code: 409, reason: 'AlreadyExists' });
    const r = rejects(s.build(), 'conflict-without-cause');
    assert.equal(r.violations.length, 3);
  });

  it('a create over an existing key, an update of an absent one', () => {
    const s = new Sketch();
    created(s);
    s.create('c2', A, [6, 8], 3);
    s.update('c2', B, [9, 10], 4);
    const r = rejects(s.build(), 'write-precondition');
    assert.equal(r.violations.length, 2);
  });

  it('a list at rv R that misses a version at or below R', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.update('c1', A, [6, 10], 3);
    s.list('c2', [7, 8], 3, [[A, 2, v0]]);
    rejects(s.build(), 'list-snapshot');
  });

  it('revisions against real time across clients', () => {
    const s = new Sketch();
    created(s, A, 5);
    s.create('c2', B, [6, 10], 4);
    rejects(s.build(), 'rv-realtime');
  });

  it('a client sees its resourceVersion go back', () => {
    const s = new Sketch();
    created(s, A, 5);
    s.list('c1', [6, 7], 4, [], { scope: { namespace: 'other' } });
    rejects(s.build(), 'rv-regression');
  });

  it('revisions not bumped across a restore', () => {
    const s = new Sketch();
    created(s);
    const a1 = s.update('c1', A, [6, 10], 3);
    s.create('c1', B, [11, 12], 4);
    s.restore([20, 40], 3);
    s.get('c2', A, [41, 42], [3, a1]);
    s.update('c1', A, [45, 50], 4, 3); // the restored etcd hands out rv 4 again
    rejects(s.build(), 'restore-bump', 'rv-regression');
  });

  it('after a restore, a key shows a write the restore lost', () => {
    const s = new Sketch();
    created(s);
    const v1 = s.update('c1', A, [6, 10], 3);
    s.restore([20, 30], 2);
    s.get('c2', A, [31, 32], [3, v1]);
    rejects(s.build(), 'restore-state');
  });

  it('watch gap', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.update('c1', A, [6, 8], 3);
    const v2 = s.update('c1', A, [9, 10], 4);
    s.watch('w1', 'w', 1, [0, 30], [['ADDED', A, 2, v0, 5], ['MODIFIED', A, 4, v2, 11]]);
    rejects(s.build(), 'watch-gap');
  });

  it('watch gap under a bookmark', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.update('c1', A, [6, 8], 3);
    s.watch('w1', 'w', 1, [0, 30], [['ADDED', A, 2, v0, 5], ['BOOKMARK', 3, 11]]);
    rejects(s.build(), 'watch-gap');
  });

  it('watch duplicate', () => {
    const s = new Sketch();
    const v0 = created(s);
    const v1 = s.update('c1', A, [6, 8], 3);
    s.watch('w1', 'w', 1, [0, 30], [['ADDED', A, 2, v0, 5], ['MODIFIED', A, 3, v1, 9], ['MODIFIED', A, 3, v1, 9]]);
    rejects(s.build(), 'watch-duplicate');
  });

  it('watch out of order', () => {
    const s = new Sketch();
    const v0 = created(s);
    const v1 = s.update('c1', A, [6, 8], 3);
    const v2 = s.update('c1', A, [9, 10], 4);
    s.watch('w1', 'w', 1, [0, 30], [['ADDED', A, 2, v0, 5], ['MODIFIED', A, 4, v2, 11], ['MODIFIED', A, 3, v1, 11]]);
    rejects(s.build(), 'watch-order');
  });

  it('wrong first event after a resume: a change skipped, or one replayed', () => {
    for (const first of [4, 2]) {
      const s = new Sketch();
      const v0 = created(s);
      const v1 = s.update('c1', A, [6, 8], 3);
      const v2 = s.update('c1', A, [12, 14], 4);
      s.watch('w1', 'w', 1, [0, 10], [['ADDED', A, 2, v0, 5]]);
      const events: EventSketch[] = first === 4 ? [['MODIFIED', A, 4, v2, 15]] : [['ADDED', A, 2, v0, 12], ['MODIFIED', A, 3, v1, 12], ['MODIFIED', A, 4, v2, 15]];
      s.watch('w2', 'w', 2, [11, 30], events, { kind: 'closed' }, { resumeOf: 'w1' });
      rejects(s.build(), 'watch-resume');
    }
  });

  it('watch event of the wrong type', () => {
    const s = new Sketch();
    const v0 = created(s);
    const v1 = s.update('c1', A, [6, 8], 3);
    s.watch('w1', 'w', 1, [0, 30], [['ADDED', A, 2, v0, 5], ['ADDED', A, 3, v1, 9]]);
    rejects(s.build(), 'watch-type');
  });

  it('watch event outside the stream scope', () => {
    const s = new Sketch();
    const v0 = s.create('c1', 'other/x', [0, 5], 2);
    s.watch('w1', 'w', 1, [0, 30], [['ADDED', 'other/x', 2, v0, 5]], { kind: 'closed' }, { scope: { namespace: 'ns' } });
    rejects(s.build(), 'watch-scope');
  });

  it('a watch that goes on across a restore, or starts after it from an old rv without 410', () => {
    const s = new Sketch();
    const v0 = created(s);
    s.restore([20, 30], 2);
    const v1 = s.update('c1', A, [35, 40], BUMP + 1, 2);
    s.watch('w1', 'w', 1, [0, 50], [['ADDED', A, 2, v0, 5], ['MODIFIED', A, BUMP + 1, v1, 45]]);
    s.watch('w2', 'w2', 2, [31, 50], [['MODIFIED', A, BUMP + 1, v1, 45]]);
    rejects(s.build(), 'watch-across-restore');
  });

  it('a malformed history: values reused, a client overlapping itself, a watch from rv 0', () => {
    const s = new Sketch();
    created(s);
    s.update('c1', A, [6, 10], 3);
    s.get('c2', A, [11, 20], [3, 'c1-1']);
    s.get('c2', A, [15, 21], [3, 'c1-1']);
    s.watch('w1', 'w', 0, [0, 30], []);
    const h = s.build();
    (h.ops[1] as { value: string }).value = (h.ops[0] as { value: string }).value;
    const r = check(h);
    assert.equal(r.ok, false);
    assert.ok(r.violations.filter((v) => v.rule === 'history-format').length >= 3, JSON.stringify(r.violations));
    rejected.add('history-format');
  });
});

describe('encryption at rest', () => {
  it('lists the keys not written with the current write key', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const values = [
      { key: '/kubernetes.io/secrets/ns/a', value: enc('k8s:enc:aescbc:v1:2:\x00\x01') },
      { key: '/kubernetes.io/secrets/ns/b', value: enc('k8s:enc:aescbc:v1:1:\x00\x01') },
      { key: '/kubernetes.io/secrets/ns/c', value: enc('k8s\x00') },
      { key: '/kubernetes.io/configmaps/ns/d', value: enc('{"kind":"ConfigMap"}') },
      { key: '/kubernetes.io/secrets/ns/e', value: enc('k8s:enc:aescbc:v1:2') },
    ];
    assert.deepEqual(unencryptedKeys(values, 'k8s:enc:aescbc:v1:2:'), ['/kubernetes.io/secrets/ns/b', '/kubernetes.io/secrets/ns/c', '/kubernetes.io/configmaps/ns/d', '/kubernetes.io/secrets/ns/e']);
    assert.deepEqual(unencryptedKeys(values.slice(0, 1), 'k8s:enc:aescbc:v1:2:'), []);
  });
});

/** The rv of the acknowledged write a (key, rv) pair belongs to, if any. */
function ackedAt(h: History, key: string, rv: number): Operation | undefined {
  return h.ops.find((o) => (o.kind === 'create' || o.kind === 'update' || o.kind === 'delete') && o.key === key && o.outcome.result === 'ok' && o.outcome.rv === rv);
}

type Mutation = { name: string; rules: RuleName[]; apply: (h: History, rand: () => number) => boolean };

const pickOf = <T>(xs: T[], rand: () => number): T | undefined => (xs.length ? xs[Math.floor(rand() * xs.length)] : undefined);

/** Each mutation breaks one guarantee where the history allows it, and says which rules may report it. */
const MUTATIONS: Mutation[] = [
  {
    name: 'drop a watch event of an acknowledged write (not the stream last)',
    rules: ['watch-gap', 'watch-resume'],
    apply: (h, rand) => {
      const cands = h.watches.flatMap((w) =>
        w.events.map((e, i) => ({ w, e, i })).filter(({ e, i }) => i < w.events.length - 1 && e.type !== 'BOOKMARK' && e.key && ackedAt(h, e.key, e.rv) && w.events.slice(i + 1).some((x) => x.rv > e.rv)),
      );
      const c = pickOf(cands, rand);
      if (!c) return false;
      c.w.events.splice(c.i, 1);
      return true;
    },
  },
  {
    name: 'deliver a watch event twice',
    rules: ['watch-duplicate'],
    apply: (h, rand) => {
      const cands = h.watches.flatMap((w) => w.events.map((e, i) => ({ w, e, i })).filter(({ e }) => e.type !== 'BOOKMARK'));
      const c = pickOf(cands, rand);
      if (!c) return false;
      c.w.events.splice(c.i + 1, 0, { ...c.e });
      return true;
    },
  },
  {
    name: 'swap two watch events of different revisions',
    rules: ['watch-order'],
    apply: (h, rand) => {
      const cands = h.watches.flatMap((w) => w.events.map((e, i) => ({ w, e, i })).filter(({ w, e, i }) => e.type !== 'BOOKMARK' && w.events[i + 1]?.type !== 'BOOKMARK' && w.events[i + 1] && w.events[i + 1]!.rv > e.rv));
      const c = pickOf(cands, rand);
      if (!c) return false;
      const ev = c.w.events;
      [ev[c.i], ev[c.i + 1]] = [{ ...ev[c.i + 1]!, at: ev[c.i]!.at }, { ...ev[c.i]!, at: ev[c.i + 1]!.at }];
      return true;
    },
  },
  {
    name: 'a get returns an older version than one acknowledged before it began',
    rules: ['stale-read', 'absent-read'],
    apply: (h, rand) => {
      const writes = h.ops.filter((o) => (o.kind === 'create' || o.kind === 'update') && o.outcome.result === 'ok') as Array<Operation & { kind: 'create' | 'update'; value: string; outcome: { rv: number } }>;
      const cands = h.ops.flatMap((g) => {
        if (g.kind !== 'get') return [];
        const done = writes.filter((w) => w.key === g.key && w.end < g.start);
        const newest = Math.max(...done.map((w) => w.outcome.rv));
        return done.filter((w) => w.outcome.rv < newest).map((old) => ({ g, old }));
      });
      const c = pickOf(cands, rand);
      if (!c) return false;
      c.g.outcome = { result: 'ok', rv: c.old.outcome.rv, value: c.old.value };
      return true;
    },
  },
  {
    name: 'a get returns a write that began after it ended',
    rules: ['read-future'],
    apply: (h, rand) => {
      const cands = h.ops.flatMap((g) =>
        g.kind !== 'get'
          ? []
          : h.ops.filter((w) => (w.kind === 'create' || w.kind === 'update') && w.key === g.key && w.outcome.result === 'ok' && w.start > g.end).map((w) => ({ g, w: w as Operation & { value: string; outcome: { rv: number } } })),
      );
      const c = pickOf(cands, rand);
      if (!c) return false;
      c.g.outcome = { result: 'ok', rv: c.w.outcome.rv, value: c.w.value };
      return true;
    },
  },
  {
    name: 'the final list loses the last acknowledged write of a key',
    rules: ['lost-write'],
    apply: (h, rand) => {
      const final = h.ops.find((o) => o.kind === 'list' && o.final)!;
      if (final.outcome.result !== 'ok' || !('items' in final.outcome)) return false;
      const items = final.outcome.items;
      // A delete of unknown outcome may legitimately have removed any key it could reach.
      const mayBeDeleted = (key: string) => h.ops.some((o) => o.kind === 'delete' && o.key === key && o.outcome.result === 'unknown');
      const older = (key: string, rv: number) =>
        h.ops.filter((o) => (o.kind === 'create' || o.kind === 'update') && o.key === key && o.outcome.result === 'ok' && o.outcome.rv < rv) as Array<Operation & { value: string; outcome: { rv: number } }>;
      const cands = items.map((it, i) => ({ it, i })).filter(({ it }) => ackedAt(h, it.key, it.rv) && (!mayBeDeleted(it.key) || older(it.key, it.rv).length));
      const c = pickOf(cands, rand);
      if (!c) return false;
      const back = pickOf(older(c.it.key, c.it.rv), rand);
      if (back) items[c.i] = { key: c.it.key, rv: back.outcome.rv, value: back.value };
      else items.splice(c.i, 1);
      return true;
    },
  },
  {
    name: 'a get shows another value at an acknowledged revision',
    rules: ['value-mismatch'],
    apply: (h, rand) => {
      const gets = h.ops.filter((g) => g.kind === 'get' && g.outcome.result === 'ok' && ackedAt(h, g.key, (g.outcome as { rv: number }).rv));
      const g = pickOf(gets, rand) as (Operation & { kind: 'get' }) | undefined;
      const other = g && pickOf(h.ops.filter((w) => w.kind === 'update' && w.key === g.key && w.outcome.result === 'ok' && (w.outcome as { rv: number }).rv !== (g.outcome as { rv: number }).rv), rand);
      if (!g || !other) return false;
      g.outcome = { ...(g.outcome as { result: 'ok'; rv: number; value: string }), value: (other as { value: string }).value };
      return true;
    },
  },
  {
    name: 'a successful CAS claims an older precondition than its predecessor',
    rules: ['cas-precondition'],
    apply: (h, rand) => {
      const cands = h.ops.filter((o) => o.kind === 'update' && o.outcome.result === 'ok' && o.precondition !== undefined && o.precondition > 2) as Array<Operation & { kind: 'update' }>;
      const c = pickOf(cands, rand);
      if (!c) return false;
      c.precondition = c.precondition! - 1;
      return true;
    },
  },
  {
    name: 'an acknowledged write gets a revision below one acknowledged before it began',
    rules: ['rv-realtime', 'rv-regression', 'value-mismatch', 'cas-precondition', 'watch-order', 'watch-gap', 'list-snapshot', 'lost-write', 'write-precondition', 'read-future', 'stale-read'],
    apply: (h, rand) => {
      const writes = h.ops.filter((o) => (o.kind === 'create' || o.kind === 'update' || o.kind === 'delete') && o.outcome.result === 'ok') as Array<Operation & { outcome: { rv: number } }>;
      const cands = writes.flatMap((b) => writes.filter((a) => a.end < b.start && a.outcome.rv > 2).map((a) => ({ a, b })));
      const c = pickOf(cands, rand);
      if (!c) return false;
      c.b.outcome = { ...c.b.outcome, rv: c.a.outcome.rv - 1 } as never;
      return true;
    },
  },
];

describe('seeded simulations of a linearizable store', () => {
  const SEEDS = 20;
  const configs = [{}, { clients: 6, keys: 2, unknownRate: 0.3 }, { clients: 3, keys: 1, unknownRate: 0.5, watchers: 3 }];
  const runs = configs.flatMap((cfg) => Array.from({ length: SEEDS }, (_, i) => ({ name: `seed ${i + 1} ${JSON.stringify(cfg)}`, seed: i + 1, history: simulate({ seed: i + 1, ...cfg }) })));

  it(`accepts ${runs.length} simulated histories`, () => {
    let watched = 0;
    let unknownApplied = 0;
    let shared = 0;
    for (const { name, history } of runs) {
      const r = check(history);
      assert.deepEqual(r.violations, [], `${name}: ${JSON.stringify(r.violations.slice(0, 3))}`);
      watched += r.stats.watches.events;
      unknownApplied += r.stats.writes.unknownApplied;
      const rvs = history.ops.flatMap((o) => (o.kind !== 'get' && o.kind !== 'list' && o.outcome.result === 'ok' ? [o.outcome.rv] : []));
      shared += rvs.length - new Set(rvs).size;
    }
    // The simulations exercise what they are meant to: watches, unknown outcomes that applied, group commit.
    assert.ok(watched > 1000 && unknownApplied > 50 && shared > 10, `${watched} events, ${unknownApplied} unknown writes applied, ${shared} shared revisions`);
  });

  for (const m of MUTATIONS) {
    it(`rejects them after: ${m.name}`, () => {
      let applied = 0;
      for (const { name, seed, history } of runs) {
        const h = structuredClone(history);
        if (!m.apply(h, rng(seed * 7919))) continue;
        applied++;
        const r = check(h);
        assert.equal(r.ok, false, `${name}: mutation not detected`);
        const rules = new Set(r.violations.map((v) => v.rule));
        assert.ok(m.rules.some((x) => rules.has(x)), `${name}: ${[...rules].join(', ')}`);
      }
      assert.ok(applied >= SEEDS, `only ${applied} histories could take this mutation`);
    });
  }

});

describe('coverage', () => {
  it('every rule has a hand-written history that it rejects', () => {
    assert.deepEqual(RULES.filter((r) => !rejected.has(r)), []);
  });
});

