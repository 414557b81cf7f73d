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
