/**
 * `npm run robustness -- [--scenario a,b|all] [--duration 5m|300] [--seed N] [--out DIR] [--settle 25s] [--list]`
 * Runs each scenario on a fresh home, prints a summary table, writes JSON under --out.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/util/duration.js';
import { passed, runScenario, type ScenarioResult } from './runner.js';
import { SCENARIOS, scenario } from './scenarios.js';
import { summaryMarkdown, summaryTable } from './summary.js';

function usage(message: string): never {
  process.stderr.write(`robustness: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        scenario: { type: 'string', default: 'all' },
        duration: { type: 'string', default: '1m' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        settle: { type: 'string', default: '25s' },
        list: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    usage(`${(err as Error).message}: use --scenario, --duration, --seed, --out, --settle or --list`);
  }
  if (args.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(22)} ${s.description}\n`);
    return;
  }
  const names = args.scenario === 'all' ? SCENARIOS.map((s) => s.name) : args.scenario!.split(',').map((s) => s.trim());
  try {
    names.forEach(scenario);
  } catch (err) {
    usage((err as Error).message);
  }
  if (!/^\d+$/.test(args.seed!)) usage(`--seed "${args.seed}" is not a whole number`);
  let durationMs: number;
  let settleMs: number;
  try {
    // A bare number is seconds (`--duration 300`), as in etcd's robustness tests.
    const secs = (v: string) => (/^\d+$/.test(v) ? `${v}s` : v);
    durationMs = parseDuration(secs(args.duration!), '--duration');
    settleMs = parseDuration(secs(args.settle!), '--settle');
  } catch (err) {
    usage((err as Error).message);
  }
  const out = args.out ? resolve(args.out) : mkdtempSync(join(tmpdir(), 'etcd-ops-robustness-results-'));
  mkdirSync(out, { recursive: true });
  process.stdout.write(`results in ${out}\n`);
  // Runs into the same --out add to its summary (one process per scenario sees the newest code).
  const earlier: ScenarioResult[] = existsSync(join(out, 'summary.json')) ? JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) : [];
  const results: ScenarioResult[] = [];
  const failed: string[] = [];
  const all = () => [...earlier.filter((e) => !results.some((r) => r.scenario === e.scenario)), ...results];
  for (const name of names) {
    try {
      results.push(await runScenario({ scenario: name, durationMs, seed: Number(args.seed), out, settleMs }));
    } catch (err) {
      // A home that would not come up (a loaded machine): the other scenarios still run.
      failed.push(name);
      process.stdout.write(`${name}: not run: ${(err as Error).message.split('\n').slice(0, 3).join(' / ')}\n`);
      continue;
    }
    // Written after every scenario, so a run cut short still leaves its table.
    writeFileSync(join(out, 'summary.json'), JSON.stringify(all(), null, 2));
    writeFileSync(join(out, 'summary.md'), `${summaryMarkdown(all())}\n`);
    process.stdout.write(`\n${summaryTable(results.slice(-1))}\n`);
  }
  process.stdout.write(`\n${summaryTable(results)}\n\nresults in ${out} (summary.json, <scenario>/result.json, <scenario>/history.json)\n`);
  if (failed.length) process.stdout.write(`not run (no home): ${failed.join(', ')}\n`);
  if (failed.length || !results.every(passed)) process.exitCode = 1;
}

await main();
