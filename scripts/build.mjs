// Compiles src/ to dist/ so processes start without tsx's per-module transform, bundles the web
// console's page (src/console/web, with esbuild) into dist/console-web/, and stamps the build with
// the newest source time it saw: bin/etcd-ops.js runs dist/ only while it is current.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { newestMtime } from './newest.mjs';

const root = new URL('..', import.meta.url).pathname;
const srcMtime = newestMtime(`${root}src`);
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.log('build: typescript is not installed (npm ci --omit=dev?): etcd-ops runs from src/ through tsx');
  process.exit(0);
}
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const { writeBundle } = await import(`${root}dist/console/bundle.js`);
await writeBundle();
writeFileSync(`${root}dist/build-stamp.json`, JSON.stringify({ srcMtime }) + '\n');
