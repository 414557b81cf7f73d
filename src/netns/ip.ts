import { spawnSync } from 'node:child_process';
import { UserError } from '../util/errors.js';

/** iproute2 (`ip`), the one tool that makes namespaces, bridges and veth pairs. */
export const IP_BIN = process.env.IP_BIN ?? 'ip';

export interface IpResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function ipTry(args: string[]): IpResult {
  const r = spawnSync(IP_BIN, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { ok: false, stdout: '', stderr: r.error.message };
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

export function ip(args: string[]): string {
  const r = ipTry(args);
  if (!r.ok) throw new UserError(`ip ${args.join(' ')} failed: ${r.stderr || 'no output'}`);
  return r.stdout;
}

export function listNamespaces(): string[] {
  const r = ipTry(['netns', 'list']);
  if (!r.ok) return [];
  // "name (id: 3)" or just "name"
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
}

export function listLinks(): string[] {
  const r = ipTry(['-o', 'link', 'show']);
  if (!r.ok) return [];
  // "7: eo1a2b3c-0@if6: <BROADCAST,...": the name ends at '@' or ':'
  return r.stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => !!n);
}

/** IPv4 addresses configured in the root namespace, as "a.b.c.d". */
export function listAddresses(): string[] {
  const r = ipTry(['-o', '-4', 'addr', 'show']);
  if (!r.ok) return [];
  return [...r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
}
