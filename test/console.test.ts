/**
 * The web console in a real Chromium (Debian's, driven by playwright-core; nothing downloads a
 * browser) against a real control plane brought up by `etcd-ops up`, one for the whole file, and
 * the real `etcd-ops console` command. Encryption is enabled from the page first and finishes
 * while the backup, defrag and CSRF checks run; the rotation then starts from the page.
 * Every response the browser gets (the Server-Sent Events included, through the DevTools
 * protocol) and every page's source are searched for the keys read from the key Secrets.
 * Screenshots of the five pages go to test/output/console/ (docs/console/ has copies).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { etcdClient } from '../src/etcd/connection.js';
import { DATA_KEY, KEY_NAMESPACE } from '../src/operator/encryption/keys.js';
import { killByMarker, tempDir, trackGroup, trackMarker, untrackGroup } from './helpers/cleanup.js';
import { projectRoot } from './helpers/cli.js';
import { upHome, type TestHome } from './helpers/home.js';
import { kubectl } from './helpers/kube.js';

const OUTPUT = join(projectRoot, 'test', 'output', 'console');
const PAGES = ['overview', 'encryption', 'backups', 'defrag', 'restore'] as const;

/** Evaluated in the page (a string: tests are type-checked without the DOM's types). */
const FOCUSED_TEXT = 'document.activeElement?.textContent?.trim()';

function chromiumPath(): string {
  const given = process.env.CHROMIUM_BIN;
  if (given) return given;
  const r = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const p = r.stdout.trim().split('\n')[0];
  if (!p) throw new Error('no chromium: run scripts/setup.sh (it installs Debian\'s chromium) or set CHROMIUM_BIN');
  return p;
}

/** A plain HTTP request to the console, with whatever headers the case needs. */
function http(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ code: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...o.headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${path} timed out`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Waits for a condition in the page, bounded, saying what it waited for. */
async function until(page: Page, what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
}

describe('web console in Chromium against a control plane', { timeout: 600_000 }, () => {
  let t: TestHome;
  let consoleProc: ChildProcess;
  let port: number;
  let loginURL: string;
  let browserDir: string;
  let ctx: BrowserContext;
  let page: Page;
  /** Everything the browser received: response bodies and each Server-Sent Event's data. */
  const received: Array<{ what: string; text: string }> = [];
  const pageErrors: string[] = [];
  const base = () => `http://127.0.0.1:${port}`;
  const show = async (name: (typeof PAGES)[number]) => {
    await page.goto(`${base()}/#/${name}`);
    await page.waitForSelector(`nav a[aria-current="page"][href="#/${name}"]`);
  };
  const shot = async (name: string) => {
    await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
    received.push({ what: `source of the ${name} page`, text: await page.content() });
  };

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    t = await upHome();
    consoleProc = spawn(process.execPath, [join(projectRoot, 'bin/etcd-ops.js'), 'console', '--home', t.home, '--port', '0'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    trackGroup(consoleProc.pid!);
    let out = '';
    let err = '';
    consoleProc.stderr!.on('data', (d) => (err += d));
    loginURL = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd-ops console printed no login URL in 60 s:\n${out}\n${err}`)), 60_000);
      consoleProc.stdout!.on('data', (d) => {
        out += d;
        const m = /(http:\/\/127\.0\.0\.1:(\d+)\/login\?token=\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          port = Number(m[2]);
          resolve(m[1]!);
        }
      });
      consoleProc.on('exit', (code) => reject(new Error(`etcd-ops console exited (${code}):\n${out}\n${err}`)));
    });
    // A profile folder of our own: every Chromium process names it, so a failed run kills them all.
    browserDir = tempDir('etcd-ops-chromium-');
    trackMarker(browserDir);
    ctx = await chromium.launchPersistentContext(browserDir, {
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      viewport: { width: 1280, height: 900 },
      colorScheme: 'light',
      timeout: 60_000,
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('response', async (r) => {
      if (/event-stream/.test(r.headers()['content-type'] ?? '')) return; // the CDP listener below has its data
      try {
        received.push({ what: `${r.request().method()} ${r.url()}`, text: (await r.body()).toString('utf8') });
      } catch {
        // A navigation away before the body was read: the next load fetches it again.
      }
    });
    const cdp = await ctx.newCDPSession(page);
    cdp.on('Network.eventSourceMessageReceived', (e) => received.push({ what: `server-sent event ${e.eventName}`, text: e.data }));
    await cdp.send('Network.enable');
  });

  after(async () => {
    await Promise.race([ctx?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
    if (browserDir) killByMarker(browserDir);
    if (consoleProc?.pid) {
      try {
        process.kill(-consoleProc.pid, 'SIGKILL');
      } catch {}
      untrackGroup(consoleProc.pid);
    }
    await t?.destroy();
  });

  it('refuses everything but the login link without a session: 401', async () => {
    assert.equal((await http(port, '/')).code, 401);
    const api = await http(port, '/api/state');
    assert.equal(api.code, 401);
    assert.match(api.text, /not logged in/);
    assert.equal((await http(port, '/api/stream')).code, 401);
    assert.equal((await http(port, '/login?token=wrong')).code, 401);
    assert.equal((await http(port, '/assets/app.js')).code, 401);
    assert.equal((await http(port, '/', { headers: { host: `evil.example:${port}` } })).code, 421, 'a DNS-rebinding Host is refused');
  });

  it('logs in with the printed link once: a session cookie, HttpOnly and SameSite=Strict; the link is spent', async () => {
    const first = page.waitForResponse((r) => r.url().includes('/login?token='));
    await page.goto(loginURL);
    assert.equal((await first).status(), 200);
    await page.waitForURL(`${base()}/`);
    const cookie = (await ctx.cookies(base())).find((c) => c.name === 'etcd_ops_console');
    assert.ok(cookie, 'the session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal((await http(port, new URL(loginURL).pathname + new URL(loginURL).search)).code, 401, 'a second use of the link');
  });

  it('overview: 3 members, the leader marked, all healthy', async () => {
    await page.waitForSelector('#members tbody tr');
    await until(page, '3 healthy members with a leader', async () => (await page.locator('#members tbody tr').count()) === 3 && (await page.locator('#members [data-leader="true"]').count()) === 1);
    const rows = await page.locator('#members tbody tr').evaluateAll((trs) => trs.map((tr) => ({ member: tr.getAttribute('data-member'), text: tr.textContent ?? '' })));
    assert.deepEqual(rows.map((r) => r.member).sort(), ['master-0', 'master-1', 'master-2']);
    for (const r of rows) assert.match(r.text, /healthy/);
    assert.equal(rows.filter((r) => /leader/.test(r.text)).length, 1);
    assert.equal(await page.locator('#live-status').innerText(), 'live');
    // From the keyboard: the first Tab reaches the skip link, which moves the focus to the page's heading.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(FOCUSED_TEXT), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.tagName'), 'H1');
  });

  it('encryption: "Enable aescbc" asks first, then sets the mode (the rotation below waits for it)', async () => {
    await show('encryption');
    await page.waitForSelector('#encryption-mode');
    assert.equal(await page.locator('#encryption-mode').innerText(), 'identity');
    await page.getByLabel('Encryption mode').selectOption('aescbc');
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /spec\.encryption\.type: aescbc[\s\S]*rewrites every secret/);
    // From the keyboard: the confirmation opens on Cancel, and Escape backs out.
    assert.equal(await page.evaluate(FOCUSED_TEXT), 'Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.locator('#encryption-mode').innerText(), 'identity', 'nothing changed');
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Enable aescbc' }).click();
    await until(page, 'the mode to read aescbc', async () => (await page.locator('#encryption-mode').innerText()) === 'aescbc', 20_000);
  });

  it('refuses a mutating request without the CSRF token, from another Origin, or without an Origin', async () => {
    const inPage = await page.evaluate(async () => {
      const r = await fetch('/api/actions/backup-now', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { code: r.status, body: await r.text() };
    });
    assert.equal(inPage.code, 403);
    assert.match(inPage.body, /CSRF/);
    const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    const cookie = (await ctx.cookies(base())).find((c) => c.name === 'etcd_ops_console')!;
    const headers = { cookie: `${cookie.name}=${cookie.value}`, 'content-type': 'application/json', 'x-csrf-token': csrf! };
    const foreign = await http(port, '/api/actions/backup-now', { method: 'POST', headers: { ...headers, origin: 'http://evil.example' }, body: '{}' });
    assert.equal(foreign.code, 403);
    assert.match(foreign.text, /evil\.example/);
    const crossSite = await http(port, '/api/actions/backup-now', { method: 'POST', headers: { ...headers, 'sec-fetch-site': 'cross-site' }, body: '{}' });
    assert.equal(crossSite.code, 403);
    const bare = await http(port, '/api/actions/backup-now', { method: 'POST', headers, body: '{}' });
    assert.equal(bare.code, 403);
    assert.match(bare.text, /without Origin/);
    const backups = await http(port, '/api/state', { headers: { cookie: headers.cookie } });
    assert.equal(JSON.parse(backups.text).actions.length, 1, 'only the enable ran: none of the refused requests started an action');
  });

  it('backups: "Back up now" adds a row', async () => {
    await show('backups');
    await page.waitForSelector('#backup-now:not([disabled])');
    const before = await page.locator('table.backups tbody tr').count();
    await page.click('#backup-now');
    await until(page, 'a new backup row', async () => (await page.locator('table.backups tbody tr').count()) === before + 1, 90_000);
    assert.equal(await page.locator('[data-action="backup-now"][data-state="succeeded"]').count(), 1);
    const row = await page.locator('table.backups tbody tr').first().innerText();
    assert.match(row, /\d{4}-\d\d-\d\d_\d{6}[\s\S]*master-\d/);
    await shot('backups');
    await show('restore');
    await page.waitForSelector('#restore-command');
    assert.match(await page.locator('#restore-command').innerText(), /etcd-ops restore .*\/hosts\/master-\d\/var\/lib\/etcd-backups/);
  });

  it('restore: the preview report for the chosen backup, and the exact command to run', async () => {
    // Made after the backup: a restore would lose it.
    const made = kubectl(t, ['create', 'configmap', 'made-after-the-backup', '-n', 'default', '--from-literal=a=b']);
    assert.equal(made.code, 0, made.stderr);
    await page.click('#restore-preview');
    await page.waitForSelector('#restore-preview-report', { timeout: 60_000 });
    const [was, now] = await Promise.all([page.locator('#restore-backup-revision').innerText(), page.locator('#restore-current-revision').innerText()]);
    assert.ok(Number(now) > Number(was), `the cluster moved on since the backup (${was} → ${now})`);
    const configmaps = await page.locator('#restore-changes tr[data-resource="configmaps"]').textContent();
    assert.match(configmaps ?? '', /default\/made-after-the-backup/);
    assert.match(await page.locator('#restore-risks').innerText(), /none found|to check by hand/i);
    assert.match(await page.locator('[data-action="restore-preview"]').innerText(), /etcd-ops restore --preview --home \S+ \S+\/var\/lib\/etcd-backups/);
    await shot('restore');
  });

  it('defrag: after writes and deletes fragmentation on the page rises, and the chart has points', async () => {
    await show('overview');
    await page.waitForSelector('#members [data-fragmentation]');
    const frag = () => page.locator('#members td[data-fragmentation]').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-fragmentation') || 0)));
    const before = Math.max(...(await frag()));
    const c = etcdClient(t.conn);
    try {
      const value = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 400; i += 40) await Promise.all(Array.from({ length: 40 }, (_, j) => c.put(`/console-test/${i + j}`).value(value)));
      const del = await c.delete().prefix('/console-test/');
      // The deleted values' pages are freed once the history that holds them is compacted.
      await c.kv.compact({ revision: del.header.revision, physical: true });
    } finally {
      c.close();
    }
    await until(page, 'fragmentation to rise on every member', async () => (await frag()).every((f) => f > before + 0.2), 60_000);
    const points = Number(await page.locator('.chart').first().getAttribute('data-points'));
    assert.ok(points >= 2, `the size chart has ${points} points`);
    assert.ok(await page.locator('.chart canvas').count(), 'the charts are drawn');
  });

  it('defrag: the dry-run plan comes first, then "Defragment" (after a confirmation) gives the space back, leader last', async () => {
    await show('defrag');
    await page.waitForSelector('#defrag-members tbody tr');
    assert.ok(await page.locator('#defrag-run').isDisabled(), 'no defragment before a plan');
    await page.getByLabel('every member').check();
    await page.click('#defrag-plan');
    await page.waitForSelector('[data-action="defrag-plan"][data-state="succeeded"]');
    const steps = await page.locator('#defrag-plan-result li').allInnerTexts();
    assert.equal(steps.length, 3, steps.join(' | '));
    assert.match(steps[2]!, /the leader, last/);
    await page.click('#defrag-run');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Defragment' }).click();
    await page.waitForSelector('[data-action="defrag-run"][data-state="succeeded"]', { timeout: 90_000 });
    const frag = () => page.locator('#defrag-members [data-member]').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-fragmentation') || 1)));
    await until(page, 'the reclaimable space to go on every member', async () => (await frag()).every((f) => f < 0.2), 30_000);
    await page.waitForSelector('#defrag-history tbody tr');
    assert.match(await page.locator('#defrag-history').innerText(), /ConsoleDefragment/);
    await shot('defrag');
    await show('overview');
    await until(page, 'the defrags marked on the size chart', async () => /defrag/.test((await page.locator('.chart').first().getAttribute('data-marks')) ?? ''), 30_000);
    await shot('overview');
  });

  it('encryption: a rotation from the page reaches EncryptionCompleted, its progress seen on the page', async () => {
    await show('encryption');
    const reasons = () => page.locator('[data-component] .encrypted-condition').evaluateAll((ps) => ps.map((p) => p.getAttribute('data-reason')));
    const settled = async () => (await page.locator('#encryption-progress').getAttribute('data-settled')) === 'true' && (await reasons()).every((r) => r === 'EncryptionCompleted');
    await until(page, 'aescbc to be enabled (EncryptionCompleted everywhere)', settled, 240_000);
    await page.locator('#rotate').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /new aescbc key/);
    await dialog.getByRole('button', { name: 'Rotate keys' }).click();
    const seen = new Set<string>();
    let shotTaken = false;
    await until(
      page,
      'the rotation to finish',
      async () => {
        const p = page.locator('#encryption-progress');
        const pct = await p.getAttribute('data-pct');
        const inProgress = (await reasons()).includes('EncryptionInProgress');
        if (pct !== null && (await p.getAttribute('data-settled')) === 'false') seen.add(`${pct}%`);
        if (inProgress) seen.add('EncryptionInProgress');
        if (!shotTaken && inProgress && pct !== null && Number(pct) < 100) {
          shotTaken = true;
          await shot('encryption');
        }
        return (await page.locator('[data-action="encryption-rotate"][data-state="succeeded"]').count()) === 1;
      },
      240_000,
    );
    if (!shotTaken) await shot('encryption');
    assert.ok(seen.has('EncryptionInProgress'), `the page showed the migration in progress (saw ${[...seen].join(', ')})`);
    assert.ok([...seen].some((s) => /^\d+%$/.test(s) && Number.parseInt(s) < 100), `the page showed progress under 100 % (saw ${[...seen].join(', ')})`);
    assert.deepEqual(await reasons(), ['EncryptionCompleted', 'EncryptionCompleted', 'EncryptionCompleted']);
    const keys = await page.locator('[data-component="openshift-kube-apiserver"] table.keys tbody tr').allInnerTexts();
    assert.equal(keys.length, 2, `two keys: ${keys.join(' | ')}`);
    assert.match(keys[1]!, /encryption-key-openshift-kube-apiserver-2\s+aescbc/);
  });

  it('each action wrote a Kubernetes Event naming the user', () => {
    const r = kubectl(t, ['get', 'events', '-n', 'openshift-kube-apiserver-operator', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const mine = (JSON.parse(r.stdout).items as Array<{ reason: string; message: string; source?: { component?: string }; reportingInstance?: string }>).filter((e) => e.source?.component === 'etcd-ops-console');
    const reasons = mine.map((e) => e.reason).sort();
    assert.deepEqual(reasons, ['ConsoleBackupCreated', 'ConsoleDefragment', 'ConsoleEncryptionKeyRotationRequested', 'ConsoleEncryptionModeChanged']);
    for (const e of mine) assert.match(e.message, /\(by admin \(/, e.message);
  });

  it('no key material in any page source or network response, Server-Sent Events included', () => {
    const r = kubectl(t, ['get', 'secrets', '-n', KEY_NAMESPACE, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const keys = (JSON.parse(r.stdout).items as Array<{ metadata: { name: string }; data?: Record<string, string> }>)
      .filter((s) => s.data?.[DATA_KEY])
      .map((s) => ({ name: s.metadata.name, raw: Buffer.from(s.data![DATA_KEY]!, 'base64') }));
    assert.equal(keys.length, 6, 'two keys for each of the three API servers');
    const config = kubectl(t, ['get', 'secret', '-n', 'openshift-kube-apiserver', 'encryption-config', '-o', 'jsonpath={.data}']);
    assert.equal(config.code, 0, config.stderr);
    // The search covers what the page was sent about these very keys: their names came by the stream.
    assert.ok(received.some((x) => x.what === 'server-sent event encryption' && x.text.includes(keys.find((k) => k.name.endsWith('-2'))!.name)), 'the Server-Sent Events were captured');
    assert.ok(received.filter((x) => x.what.startsWith('source of')).length >= 5, 'every page source was captured');
    const forms = keys.flatMap((k) => [
      [k.name, 'base64', k.raw.toString('base64')],
      [k.name, 'base64url', k.raw.toString('base64url')],
      [k.name, 'hex', k.raw.toString('hex')],
    ]);
    const configValues = Object.values(JSON.parse(config.stdout) as Record<string, string>);
    const leaks: string[] = [];
    for (const x of received) {
      for (const [name, form, text] of forms) if (x.text.includes(text!)) leaks.push(`${name} (${form}) in ${x.what}`);
      for (const v of configValues) if (x.text.includes(v)) leaks.push(`the encryption-config secret in ${x.what}`);
    }
    assert.deepEqual(leaks, []);
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  });
});
