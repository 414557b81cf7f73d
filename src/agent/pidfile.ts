import { existsSync, readFileSync } from 'node:fs';
import type { ProcessRef } from '../util/proc.js';

export function readPidFile(path: string): ProcessRef | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8'));
    return typeof v.pid === 'number' ? { pid: v.pid, startTicks: v.startTicks } : undefined;
  } catch {
    return undefined;
  }
}
