#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a fresh clone needs only `npm ci`, no build step.
import { register } from 'tsx/esm/api';

// gRPC sets the TLS server name to the endpoint's IP, which Node flags as deprecated (DEP0123).
// It is not the user's doing and not actionable, so it stays out of their terminal.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'DEP0123') return;
  return emitWarning(warning, ...rest);
};

register();
await import('../src/cli/main.ts');
