#!/usr/bin/env node
// gRPC sets the TLS server name to the endpoint's IP, which Node flags as deprecated (DEP0123).
// It is not the user's doing and not actionable, so it stays out of their terminal.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'DEP0123') return;
  return emitWarning(warning, ...rest);
};

// The compiled dist/ (made by `npm ci` or scripts/setup.sh) starts several times faster than
// TypeScript through tsx; it runs only while no source file is newer than the build.
import { readFileSync } from 'node:fs';
import { newestMtime } from '../scripts/newest.mjs';

const root = new URL('..', import.meta.url).pathname;
let current = false;
try {
  current = JSON.parse(readFileSync(`${root}dist/build-stamp.json`, 'utf8')).srcMtime >= newestMtime(`${root}src`);
} catch {
  current = false;
}
if (current) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
