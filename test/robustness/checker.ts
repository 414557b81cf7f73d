/**
 * The robustness checker: is a recorded history (history.ts) one that etcd behind a Kubernetes
 * API server may produce? Pure and deterministic; README.md lists the rules.
 *
 * resourceVersion is etcd's revision, a total order of writes, and every write carries a unique
 * value, so each read names the write it saw: the check is a few sorted passes, not a search.
 */
import { Epochs, revisionPoints } from './epochs.js';
import { checkFormat } from './format.js';
import type { History } from './history.js';
import { checkRegisters } from './register.js';
import { Findings, type Violation, type Warning } from './report.js';
import { checkRevisions } from './revisions.js';
import { Versions } from './versions.js';
import { checkWatches } from './watches.js';

export { RULES, type RuleName, type Violation, type Warning, type WarningName } from './report.js';
export { unencryptedKeys, type StoredValue } from './encryption.js';

export interface CheckStats {
  operations: number;
  writes: { ok: number; failed: number; unknown: number; unknownApplied: number };
  /** Gets and lists. A get's 404 counts as notFound, not as failed. */
  reads: { ok: number; notFound: number; failed: number; unknown: number };
  keys: number;
  /** Versions of keys the history established (acknowledged or observed writes). */
  versions: number;
  watches: { streams: number; events: number; bookmarks: number; gone: number };
  restores: number;
  /** Acknowledged writes after a backup's revision that its restore was expected to lose. */
  expectedLost: number;
  /** Reads and refusals overlapping a restore that could not be placed on either side of it. */
  ambiguous: number;
}

export interface CheckResult {
  ok: boolean;
  violations: Violation[];
  /** Suspicious but legal by design (README): they do not make `ok` false. */
  warnings: Warning[];
  stats: CheckStats;
}

export function check(history: History): CheckResult {
  const out = new Findings();
  checkFormat(history, out);
  const points = revisionPoints(history);
  const epochs = new Epochs(history, points);
  const vs = new Versions(history, epochs, out);
  const reg = checkRegisters(history.ops, vs, epochs, out);
  checkRevisions(history, points, vs, epochs, out);
  const watches = checkWatches(history, vs, epochs, out);
  if (!history.ops.some((o) => o.kind === 'list' && o.final && o.outcome.result === 'ok')) {
    out.warning('no-final-list', [], 'the history has no successful final list: lost acknowledged writes were not checked');
  }
  return { ok: out.violations.length === 0, violations: out.violations, warnings: out.warnings, stats: stats(history, vs, epochs, reg, watches) };
}

function stats(h: History, vs: Versions, epochs: Epochs, reg: { expectedLost: number; ambiguous: number }, watches: CheckStats['watches']): CheckStats {
  const s: CheckStats = {
    operations: h.ops.length,
    writes: { ok: 0, failed: 0, unknown: 0, unknownApplied: 0 },
    reads: { ok: 0, notFound: 0, failed: 0, unknown: 0 },
    keys: 0,
    versions: vs.size,
    watches,
    restores: epochs.restores.length,
    expectedLost: reg.expectedLost,
    ambiguous: reg.ambiguous + vs.ambiguous,
  };
  const keys = new Set<string>();
  for (const op of h.ops) {
    const r = op.outcome.result;
    if (op.kind === 'get' || op.kind === 'list') {
      if (op.kind === 'get') keys.add(op.key);
      if (r === 'failed' && op.outcome.code === 404 && op.kind === 'get') s.reads.notFound++;
      else s.reads[r]++;
      continue;
    }
    keys.add(op.key);
    s.writes[r]++;
    if (r === 'unknown' && vs.placement.has(op)) s.writes.unknownApplied++;
  }
  s.keys = keys.size;
  return s;
}
