/** The summary table of a set of runs: one row per scenario. */
import Table from 'cli-table3';
import { passed, type ScenarioResult } from './runner.js';

const s = (ms: number) => (ms / 1000).toFixed(1);

/** Errors other than the refusals contention makes anyway (404, 409), most frequent first. */
function topErrors(e: Record<string, number>, n = 3): string {
  const errs = Object.entries(e).filter(([k]) => !/^(404 NotFound|409 Conflict|409 AlreadyExists)$/.test(k));
  const list = errs.slice(0, n).map(([k, v]) => `${k} ${v}`);
  const rest = errs.slice(n).reduce((a, [, b]) => a + b, 0);
  return list.join('\n') + (rest ? `\n+${rest} more` : '');
}

/** The three counts the issue asks for, from the verdict's violations by rule. */
export function headline(r: ScenarioResult): { lostWrites: number; watchViolations: number; rvRegressions: number } {
  const by = r.verdict.byRule;
  const sum = (f: (rule: string) => boolean) => Object.entries(by).filter(([k]) => f(k)).reduce((a, [, n]) => a + n, 0);
  return {
    lostWrites: sum((k) => k === 'lost-write' || k === 'restore-state'),
    watchViolations: sum((k) => k.startsWith('watch-')),
    rvRegressions: sum((k) => k === 'rv-regression' || k === 'rv-realtime' || k === 'restore-bump'),
  };
}

export function summaryTable(results: ScenarioResult[]): string {
  const table = new Table({
    head: ['scenario', 'faults', 'ops', 'ops/s', 'p50 ms', 'p99 ms', 'no write s', 'no read s', 'ok/failed/unknown', 'errors (not 404/409)', 'watch ev/410/resumed', 'lost/watch/rv', 'load', 'verdict'],
    style: { head: [], border: [] },
  });
  for (const r of results) {
    const f = r.figures;
    const v = r.verdict;
    const h = headline(r);
    const bad = Object.entries(v.byRule).map(([k, n]) => `${k} ${n}`).join('\n');
    const extra = [
      !r.finalList && 'no final list',
      !r.readable && 'unreadable objects',
      r.encryption && !r.encryption.settled && 'rotation unsettled',
      r.encryption && r.encryption.notWithWriteKeyCount > 0 && `${r.encryption.notWithWriteKeyCount} not with write key`,
      r.error && 'error',
    ].filter(Boolean);
    table.push([
      r.scenario,
      String(r.faults.length),
      String(f.ops),
      String(f.opsPerSecond),
      String(f.latency.p50),
      String(f.latency.p99),
      s(f.unavailable.writes.ms),
      s(f.unavailable.reads.ms),
      `${f.outcomes.ok}/${f.outcomes.failed}/${f.outcomes.unknown}`,
      topErrors(f.errors),
      `${f.watches.events}/${f.watches.gone}/${f.watches.resumed}`,
      `${h.lostWrites}/${h.watchViolations}/${h.rvRegressions}`,
      `${r.load.start.toFixed(1)}→${r.load.end.toFixed(1)}`,
      (passed(r) ? 'PASS' : 'FAIL') + (bad ? `\n${bad}` : '') + (extra.length ? `\n${extra.join('\n')}` : ''),
    ]);
  }
  return table.toString();
}

/** The same rows as a Markdown table (results notes), one line per scenario. */
export function summaryMarkdown(results: ScenarioResult[]): string {
  const head = ['scenario', 'faults', 'ops/s', 'p50 ms', 'p99 ms', 'longest no write s', 'longest no read s', 'ok/failed/unknown', 'errors by kind (not 404/409)', 'lost acked writes', 'watch violations', 'rv regressions', 'load 1m start→end', 'verdict'];
  const rows = results.map((r) => {
    const f = r.figures;
    const h = headline(r);
    const bad = Object.entries(r.verdict.byRule).map(([k, n]) => `${k} ${n}`);
    return [
      r.scenario,
      String(r.faults.length),
      String(f.opsPerSecond),
      String(f.latency.p50),
      String(f.latency.p99),
      s(f.unavailable.writes.ms),
      s(f.unavailable.reads.ms),
      `${f.outcomes.ok}/${f.outcomes.failed}/${f.outcomes.unknown}`,
      topErrors(f.errors, 4).replace(/\n/g, '; ') || '-',
      String(h.lostWrites),
      String(h.watchViolations),
      String(h.rvRegressions),
      `${r.load.start.toFixed(1)}→${r.load.end.toFixed(1)}`,
      [passed(r) ? 'PASS' : 'FAIL', ...bad, r.error ? 'error' : ''].filter(Boolean).join('; '),
    ];
  });
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}
