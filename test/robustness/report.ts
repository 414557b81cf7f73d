/** What the checker reports: named rules, the records they are about, one line each. */

export const RULES = [
  // the history itself
  'history-format',
  // per key (a linearizable register with compare-and-swap)
  'stale-read',
  'read-future',
  'absent-read',
  'value-mismatch',
  'phantom-write',
  'failed-write-visible',
  'cas-precondition',
  'write-precondition',
  'conflict-without-cause',
  'list-snapshot',
  'lost-write',
  'restore-state',
  // global revisions
  'rv-realtime',
  'rv-regression',
  'restore-bump',
  // watches
  'watch-order',
  'watch-duplicate',
  'watch-gap',
  'watch-resume',
  'watch-type',
  'watch-scope',
  'watch-across-restore',
] as const;

export type RuleName = (typeof RULES)[number];

/** Findings that are suspicious but legal by design (see README). */
export type WarningName = 'unexplained-410' | 'no-final-list';

export interface Violation {
  rule: RuleName;
  /** `<client>#<seq>` for operations, `watch:<id>[<i>]` for watch events, `restore#<i>` for specials. */
  refs: string[];
  message: string;
}

export interface Warning {
  rule: WarningName;
  refs: string[];
  message: string;
}

/** Collects findings once each: several passes may meet the same pair of records. */
export class Findings {
  readonly violations: Violation[] = [];
  readonly warnings: Warning[] = [];
  private readonly seen = new Set<string>();

  violation(rule: RuleName, refs: string[], message: string): void {
    const id = `${rule}|${[...refs].sort().join(',')}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.violations.push({ rule, refs, message });
  }

  warning(rule: WarningName, refs: string[], message: string): void {
    this.warnings.push({ rule, refs, message });
  }
}
