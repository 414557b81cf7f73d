/**
 * The page's code and styles, bundled by esbuild: at build time into dist/console-web/ (by
 * scripts/build.mjs, through `writeBundle`), or in memory when the console runs from src/ (a
 * source newer than the build), so an edit never serves a stale page. No CDN: every byte the
 * page loads is one of these two files.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

const root = new URL('../../', import.meta.url).pathname;
export const WEB_ENTRY = `${root}src/console/web/main.tsx`;
export const BUNDLE_DIR = `${root}dist/console-web`;

function options(): BuildOptions {
  return {
    entryPoints: { app: WEB_ENTRY },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** scripts/build.mjs: writes app.js and app.css. */
export async function writeBundle(): Promise<void> {
  await build({ ...options(), outdir: BUNDLE_DIR });
}

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

export interface Assets {
  'app.js': Asset;
  'app.css': Asset;
}

const asset = (type: string, body: Buffer): Asset => ({ type, body, gzip: gzipSync(body, { level: 9 }) });

/** The built bundle when this code runs from dist/, else a fresh one made now. */
export async function loadAssets(): Promise<Assets> {
  let js: Buffer;
  let css: Buffer;
  if (new URL(import.meta.url).pathname.includes('/dist/console/')) {
    js = readFileSync(`${BUNDLE_DIR}/app.js`);
    css = readFileSync(`${BUNDLE_DIR}/app.css`);
  } else {
    const r = await build({ ...options(), outdir: '/', write: false });
    const file = (ext: string) => Buffer.from(r.outputFiles.find((f) => f.path.endsWith(ext))!.contents);
    js = file('.js');
    css = file('.css');
  }
  return { 'app.js': asset('text/javascript; charset=utf-8', js), 'app.css': asset('text/css; charset=utf-8', css) };
}
