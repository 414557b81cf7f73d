import parse from 'parse-duration';
import { UserError } from './errors.js';

/** Parses a Go-style duration ("5s", "1m30s", "500ms") as etcdctl flags take them. */
export function parseDuration(text: string, flag: string): number {
  const ms = /^\s*$/.test(text) ? null : parse(text);
  if (ms == null || !Number.isFinite(ms) || ms < 0 || /^\d+$/.test(text.trim()) && text.trim() !== '0') {
    throw new UserError(`${flag} "${text}" is not a duration: use a number with a unit, like 5s, 500ms or 1m30s`);
  }
  return ms;
}

/** Go's time.Duration String() for durations under an hour, as etcdctl prints "took = 3.667725ms". */
export function goDuration(ms: number): string {
  const trim = (n: number) => n.toFixed(6).replace(/\.?0+$/, '');
  if (ms < 0.001) return `${Math.round(ms * 1e6)}ns`;
  if (ms < 1) return `${trim(ms * 1000)}µs`;
  if (ms < 1000) return `${trim(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1000)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${trim((ms - m * 60_000) / 1000)}s`;
}

/** A duration as one writes it on the command line: "1m", "1m30s", "500ms", "0s" (help shows defaults so). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [size, unit] of [[3_600_000, 'h'], [60_000, 'm'], [1000, 's']] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest ? `${out}${rest}ms` : out;
}
