/**
 * The web console's three figures, on a real 3-host control plane and the real `etcd-ops console`:
 * - the page's bundle (app.js + app.css) gzipped, against the 200 KB target and against its two
 *   libraries alone (preact and uPlot, minified and gzipped by the same esbuild in this run);
 * - the time from navigation start to a filled overview (the page's own performance mark, set
 *   when the members table has data), in Debian's Chromium, each run in a fresh browser context
 *   (a cold cache), median of --runs; against the same browser loading the console's plain
 *   401 page (no script: the floor of any page it serves);
 * - the console's CPU while idle with one page open and its live updates (Server-Sent Events,
 *   a sample every 5 s), over --idle seconds, from /proc; against the same console with no page
 *   open over as long (its sampler alone).
 *
 *   node --import tsx bench/console.ts [--runs 7] [--idle 60]      (npm run bench -- console)
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { loadAssets } from '../src/console/bundle.js';
import { killByMarker, tempDir, trackGroup, trackMarker } from '../test/helpers/cleanup.js';
import { projectRoot } from '../test/helpers/cli.js';
import { upHome } from '../test/helpers/home.js';
import { cpuSeconds } from './lib/cpu.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 7);
const IDLE_S = arg('idle', 60);
const TARGET_GZ = 200 * 1024;
const TARGET_LOAD_MS = 1000;

/** Evaluated in the page (a string: this file is type-checked without the DOM's types). */
const NAV_TIMES = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return { filled: performance.getEntriesByName('etcd-ops:overview-filled')[0]?.startTime, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
})()`;

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const out = (s = '') => process.stdout.write(`${s}\n`);

// ---- 1. the bundle ------------------------------------------------------------------------------
const assets = await loadAssets();
const libs = await build({
  stdin: { contents: "import * as p from 'preact'; import * as h from 'preact/hooks'; import uPlot from 'uplot'; import 'uplot/dist/uPlot.min.css'; (globalThis as any).x = [p, h, uPlot];", loader: 'ts', resolveDir: projectRoot },
  bundle: true,
  minify: true,
  format: 'esm',
  write: false,
  outdir: '/',
  logLevel: 'silent',
});
const libGz = libs.outputFiles.reduce((n, f) => n + gzipSync(f.contents, { level: 9 }).length, 0);
const ourGz = assets['app.js'].gzip.length + assets['app.css'].gzip.length;
const ourRaw = assets['app.js'].body.length + assets['app.css'].body.length;
out('bundle (what the console serves; no other asset, no CDN)');
out(`  app.js   ${kb(assets['app.js'].body.length).padStart(9)} minified, ${kb(assets['app.js'].gzip.length).padStart(8)} gzipped`);
out(`  app.css  ${kb(assets['app.css'].body.length).padStart(9)} minified, ${kb(assets['app.css'].gzip.length).padStart(8)} gzipped`);
out(`  total    ${kb(ourRaw).padStart(9)} minified, ${kb(ourGz).padStart(8)} gzipped: ${((ourGz / TARGET_GZ) * 100).toFixed(0)} % of the 200 KB target`);
out(`  preact + uPlot alone ${kb(libGz)} gzipped: the console's own code adds ${kb(ourGz - libGz)} (${(ourGz / libGz).toFixed(2)}x the libraries)`);
out();

// ---- 2 and 3 need a control plane, the console and a browser -----------------------------------
const t = await upHome();
// A switch Chromium ignores, naming a folder of ours: killByMarker finds the browser by it.
const browserDir = tempDir('etcd-ops-bench-chromium-');
trackMarker(browserDir);
let browser: Browser | undefined;
const consoleProc = spawn(process.execPath, [join(projectRoot, 'bin/etcd-ops.js'), 'console', '--home', t.home, '--port', '0'], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
trackGroup(consoleProc.pid!);
try {
  const loginURL = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no login URL in 60 s: ${text}`)), 60_000);
    consoleProc.stdout!.on('data', (d) => {
      text += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\/login\?token=\S+/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
  });
  const base = new URL(loginURL).origin;
  const exe = process.env.CHROMIUM_BIN || spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).stdout.trim();
  if (!exe) throw new Error('no chromium: run scripts/setup.sh or set CHROMIUM_BIN');
  browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--etcd-ops-bench=${browserDir}`] });
  const login = await browser.newContext();
  const lp = await login.newPage();
  await lp.goto(loginURL);
  await lp.waitForURL(`${base}/`);
  await lp.waitForSelector('#members tbody tr');
  const cookies = await login.cookies(base);
  await login.close();

  const filled: number[] = [];
  const dcl: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext();
    await ctx.addCookies(cookies);
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.waitForFunction(() => performance.getEntriesByName('etcd-ops:overview-filled').length > 0, undefined, { timeout: 30_000 });
    const m = (await page.evaluate(NAV_TIMES)) as { filled: number; dcl: number };
    filled.push(m.filled);
    dcl.push(m.dcl);
    await ctx.close();
    // The floor: a fresh context (no cookie) loading the console's 401 page, no script at all.
    const bare = await browser.newContext();
    const bp = await bare.newPage();
    await bp.goto(`${base}/`);
    floor.push(((await bp.evaluate(NAV_TIMES)) as { load: number }).load);
    await bare.close();
  }
  const fm = median(filled);
  out(`load to a filled overview, Chromium, fresh context each run, ${RUNS} runs (load average ${loadavg()[0].toFixed(1)})`);
  out(`  filled overview   median ${fm.toFixed(0)} ms  (runs: ${filled.map((x) => x.toFixed(0)).join(', ')}): ${((fm / TARGET_LOAD_MS) * 100).toFixed(0)} % of the 1 s target`);
  out(`  DOMContentLoaded  median ${median(dcl).toFixed(0)} ms  (page and bundle loaded and run)`);
  out(`  the 401 page      median ${median(floor).toFixed(0)} ms  (no script: the floor); the overview takes ${(fm / median(floor)).toFixed(1)}x it`);
  out();

  // ---- 3. idle CPU ------------------------------------------------------------------------------
  const pid = consoleProc.pid!;
  const settle = () => new Promise((r) => setTimeout(r, 3000));
  await settle();
  let c0 = cpuSeconds(pid);
  let w0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const alone = (cpuSeconds(pid) - c0) / ((performance.now() - w0) / 1000);
  const ctx = await browser.newContext();
  await ctx.addCookies(cookies);
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  await page.waitForSelector('#members tbody tr');
  await settle();
  const pointsBefore = Number(await page.locator('.chart').first().getAttribute('data-points'));
  c0 = cpuSeconds(pid);
  w0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const open = (cpuSeconds(pid) - c0) / ((performance.now() - w0) / 1000);
  const pointsAfter = Number(await page.locator('.chart').first().getAttribute('data-points'));
  await ctx.close();
  out(`console CPU while idle, ${IDLE_S} s each (load average ${loadavg()[0].toFixed(1)})`);
  out(`  one page open, live   ${(open * 100).toFixed(2)} % of a core  (${pointsAfter - pointsBefore} chart points arrived meanwhile)`);
  out(`  no page open          ${(alone * 100).toFixed(2)} % of a core  (the sampler alone); the open page costs ${alone > 0 ? (open / alone).toFixed(2) : '∞'}x it`);
} finally {
  await browser?.close().catch(() => undefined);
  killByMarker(browserDir);
  try {
    process.kill(-consoleProc.pid!, 'SIGKILL');
  } catch {}
  await t.destroy();
}
