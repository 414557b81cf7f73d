/**
 * `npm run bench`: runs the benchmarks in bench/ one after the other and prints their output.
 *
 *   npm run bench                        every bench/*.ts but this runner, in name order
 *   npm run bench -- apiserver backup    only these (bench/<name>.ts)
 *   npm run bench -- apiserver --n 1000  arguments from the first option on go to each benchmark
 *
 * A missing or failing benchmark is reported and the rest still run; the exit status is non-zero
 * when any of them did not run to success.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const self = basename(fileURLToPath(import.meta.url));

const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('-'));
const names = (firstOption < 0 ? argv : argv.slice(0, firstOption)).map((n) => basename(n).replace(/\.ts$/, ''));
const passArgs = firstOption < 0 ? [] : argv.slice(firstOption);

const all = readdirSync(benchDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== self)
  .sort()
  .map((f) => f.slice(0, -3));
const selected = names.length ? names : all;

interface Outcome {
  name: string;
  status: string;
  ok: boolean;
  seconds?: number;
}

let current: ReturnType<typeof spawn> | undefined;
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // The benchmark cleans up its own etcd and servers on the signal; wait for it, then stop.
    stopping = true;
    if (current && current.exitCode === null) current.kill(sig);
    else process.exit(130);
  });
}

function run(name: string): Promise<Outcome> {
  const file = join(benchDir, `${name}.ts`);
  if (name === self.replace(/\.ts$/, '') || !existsSync(file)) {
    const known = all.length ? all.join(', ') : 'none';
    return Promise.resolve({ name, status: `missing: no bench/${name}.ts (benchmarks: ${known})`, ok: false });
  }
  process.stdout.write(`\n=== bench/${name}.ts${passArgs.length ? ` ${passArgs.join(' ')}` : ''}\n`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...passArgs], { cwd: root, stdio: 'inherit' });
    current = child;
    child.on('error', (err) => resolve({ name, status: `could not start: ${err.message}`, ok: false }));
    child.on('exit', (code, signal) => {
      current = undefined;
      const seconds = (Date.now() - started) / 1000;
      if (code === 0) resolve({ name, status: 'ok', ok: true, seconds });
      else resolve({ name, status: signal ? `killed by ${signal}` : `failed (exit ${code})`, ok: false, seconds });
    });
  });
}

const outcomes: Outcome[] = [];
for (const name of selected) {
  if (stopping) {
    outcomes.push({ name, status: 'not run (interrupted)', ok: false });
    continue;
  }
  const o = await run(name);
  if (!o.ok) process.stdout.write(`=== bench/${name}.ts: ${o.status}\n`);
  outcomes.push(o);
}

if (selected.length === 0) process.stdout.write('no benchmarks in bench/\n');
process.stdout.write('\n=== summary\n');
const width = Math.max(...outcomes.map((o) => o.name.length), 4);
for (const o of outcomes) process.stdout.write(`${o.name.padEnd(width)}  ${o.status}${o.seconds !== undefined ? ` (${o.seconds.toFixed(1)} s)` : ''}\n`);
process.exitCode = outcomes.every((o) => o.ok) && outcomes.length > 0 ? 0 : 1;
