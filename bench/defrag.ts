/**
 * Defragmenting a 3-member control plane that holds 500 MB or more at about 50 % fragmentation.
 * Prints the total wall time of `etcd-ops defrag` against the sum of the members' own defrag
 * durations (our orchestration overhead: health and catch-up waits, status tables), and against
 * the seed's manual procedure, which waits a minute between members.
 *
 *   node --import tsx bench/defrag.ts [--mb 600]
 */
import { loadavg } from 'node:os';
import { OPERATOR } from '../src/kube/client.js';
import { fill } from '../test/helpers/fill.js';
import { upHome } from '../test/helpers/home.js';
import { adminClient } from '../test/helpers/kube.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const MB = arg('mb', 600);
const VALUE = 64 * 1024;
const SEED_WAIT_S = 60;

const t = await upHome(['--quota-backend-bytes', String(8 * 1024 ** 3)]);
try {
  // The operator's own defrag controller would race the benchmark: switch it off.
  const kube = adminClient(t);
  await kube.mergePatch(OPERATOR('etcds'), 'cluster', { spec: { unsupportedConfigOverrides: { defrag: { disabled: true } } } });
  kube.close();
  const count = Math.ceil((MB * 1024 * 1024) / VALUE);
  process.stdout.write(`writing ${count} values of ${VALUE / 1024} KiB (${MB} MB), then deleting every other one ...\n`);
  const w0 = performance.now();
  await fill(t.conn, { prefix: '/bench/keep/', count: Math.ceil(count / 2), size: VALUE, concurrency: 16 });
  await fill(t.conn, { prefix: '/bench/drop/', count: Math.floor(count / 2), size: VALUE, del: true, concurrency: 16 });
  const c = await t.cli(['compact'], { timeoutMs: 300_000 });
  if (c.code !== 0) throw new Error(c.stderr);
  process.stdout.write(`filled and compacted in ${((performance.now() - w0) / 1000).toFixed(0)} s\n`);

  const d0 = performance.now();
  const r = await t.cli(['defrag', '--rule', 'dbSizeFree > 0', '--command-timeout', '5m', '-w', 'json'], { timeoutMs: 900_000 });
  const wallMs = performance.now() - d0;
  if (r.code !== 0) throw new Error(`defrag failed: ${r.stderr}`);
  const report = JSON.parse(r.stdout);
  const own = report.results.reduce((s: number, x: { defragMs: number }) => s + x.defragMs, 0);
  const before = report.results.map((x: { before: { dbSize: number } }) => x.before.dbSize);
  const after = report.results.map((x: { after: { dbSize: number } }) => x.after.dbSize);
  const frag = report.before.map((m: { dbSize: number; dbSizeInUse: number }) => (m.dbSize - m.dbSizeInUse) / m.dbSize);
  const seedMs = own + (report.results.length - 1) * SEED_WAIT_S * 1000;
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  process.stdout.write(
    [
      '',
      `defragmenting ${report.results.length} members (load average ${loadavg()[0].toFixed(1)})`,
      `db sizes before: ${before.map(mb).join(', ')}; fragmentation ${frag.map((f: number) => `${(f * 100).toFixed(0)} %`).join(', ')}`,
      `db sizes after:  ${after.map(mb).join(', ')}`,
      `order: ${report.order.join(' → ')} (leader last)`,
      '',
      `members' own defrag time (sum)      ${(own / 1000).toFixed(2)} s   (${report.results.map((x: { defragMs: number }) => (x.defragMs / 1000).toFixed(2)).join(' + ')})`,
      `etcd-ops defrag, wall time           ${(wallMs / 1000).toFixed(2)} s   overhead ${((wallMs - own) / 1000).toFixed(2)} s, ratio ${(wallMs / own).toFixed(2)}x`,
      `the seed's procedure (1-minute waits) ${(seedMs / 1000).toFixed(2)} s   etcd-ops takes ${((wallMs / seedMs) * 100).toFixed(0)} % of it`,
      '',
    ].join('\n'),
  );
} finally {
  await t.destroy();
}
