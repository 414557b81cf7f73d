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

export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${+(ms).toFixed(3)}ms`;
  return `${+(ms / 1000).toFixed(3)}s`;
}
