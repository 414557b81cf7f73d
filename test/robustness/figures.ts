/**
 * The figures of a run, from its history alone (pure): throughput, latency, the longest time
 * without a definite answer for writes and for reads, errors by kind, and the checker's verdict.
 */
import type { CheckResult } from './checker.js';
import { isWrite, type History, type Operation } from './history.js';

export interface Window {
  ms: number;
  /** Run time (ms on the history's clock) where the window began and ended. */
  from: number;
  to: number;
}

export interface Figures {
  /** The traffic's span: first request to last answer, final lists excluded. */
  seconds: number;
  ops: number;
  opsPerSecond: number;
  /** Latency of answered requests (ok or refused), in ms. */
  latency: { p50: number; p99: number; writes: { p50: number; p99: number }; reads: { p50: number; p99: number } };
  /**
   * The longest span with no definite answer (ok, or a refusal such as 404/409, which also
   * proves the API and etcd answered) among writes, and among reads.
   */
  unavailable: { writes: Window; reads: Window };
  outcomes: { ok: number; failed: number; unknown: number };
  /** `409 Conflict`, `404 NotFound`, `unknown: timeout`, `unknown: HTTP 503 ServiceUnavailable` ... */
  errors: Record<string, number>;
  watches: { streams: number; events: number; gone: number; errors: number; resumed: number };
}

export interface Verdict {
  ok: boolean;
  violations: number;
  byRule: Record<string, number>;
  warnings: Record<string, number>;
  /** The first few violations, to read without opening the JSON. */
  first: string[];
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Longest gap between definite answers within [start, end]. */
export function longestGap(answers: number[], start: number, end: number): Window {
  const ts = answers.filter((t) => t >= start && t <= end).sort((a, b) => a - b);
  let best: Window = { ms: 0, from: start, to: start };
  let prev = start;
  for (const t of [...ts, end]) {
    if (t - prev > best.ms) best = { ms: round(t - prev), from: round(prev), to: round(t) };
    prev = t;
  }
  return best;
}

/** The kind of a non-ok outcome, as the figures count it. */
export function errorKind(op: Operation): string | undefined {
  const o = op.outcome;
  if (o.result === 'ok') return undefined;
  if (o.result === 'failed') return `${o.code} ${o.reason ?? ''}`.trim();
  const e = o.error.replace(/^(HTTP \d+ \w+).*$/s, '$1');
  return `unknown: ${e.slice(0, 60)}`;
}

export function figures(h: History): Figures {
  const traffic = h.ops.filter((o) => !(o.kind === 'list' && o.final));
  const start = Math.min(...traffic.map((o) => o.start));
  const end = Math.max(...traffic.map((o) => o.end));
  const seconds = traffic.length ? (end - start) / 1000 : 0;
  const answered = traffic.filter((o) => o.outcome.result !== 'unknown');
  const lat = (ops: Operation[]) => {
    const s = ops.map((o) => o.end - o.start).sort((a, b) => a - b);
    return { p50: round(quantile(s, 0.5)), p99: round(quantile(s, 0.99)) };
  };
  const writes = answered.filter(isWrite);
  const reads = answered.filter((o) => !isWrite(o));
  const errors: Record<string, number> = {};
  const outcomes = { ok: 0, failed: 0, unknown: 0 };
  for (const op of traffic) {
    outcomes[op.outcome.result]++;
    const k = errorKind(op);
    if (k) errors[k] = (errors[k] ?? 0) + 1;
  }
  return {
    seconds: round(seconds),
    ops: traffic.length,
    opsPerSecond: seconds > 0 ? round(traffic.length / seconds) : 0,
    latency: { ...lat(answered), writes: lat(writes), reads: lat(reads) },
    unavailable: {
      writes: longestGap(writes.map((o) => o.end), start, end),
      reads: longestGap(reads.map((o) => o.end), start, end),
    },
    outcomes,
    errors: Object.fromEntries(Object.entries(errors).sort((a, b) => b[1] - a[1])),
    watches: {
      streams: h.watches.length,
      events: h.watches.reduce((n, w) => n + w.events.filter((e) => e.type !== 'BOOKMARK').length, 0),
      gone: h.watches.filter((w) => w.ending.kind === 'gone').length,
      errors: h.watches.filter((w) => w.ending.kind === 'error').length,
      resumed: h.watches.filter((w) => w.resumeOf !== undefined).length,
    },
  };
}

export function verdict(r: CheckResult): Verdict {
  const byRule: Record<string, number> = {};
  for (const v of r.violations) byRule[v.rule] = (byRule[v.rule] ?? 0) + 1;
  const warnings: Record<string, number> = {};
  for (const w of r.warnings) warnings[w.rule] = (warnings[w.rule] ?? 0) + 1;
  return { ok: r.ok, violations: r.violations.length, byRule, warnings, first: r.violations.slice(0, 5).map((v) => `${v.rule}: ${v.message}`) };
}
