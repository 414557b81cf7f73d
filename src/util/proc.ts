import { readFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The kernel's start time of a process (clock ticks since boot). With the pid it identifies
 * a process across pid reuse: a recorded (pid, startTicks) pair that no longer matches is gone.
 */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses; fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined; // a zombie has exited already
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

export interface ProcessRef {
  pid: number;
  startTicks?: number;
}

export function isSameProcessAlive(ref: ProcessRef): boolean {
  const t = startTicks(ref.pid);
  if (t === undefined) return false;
  return ref.startTicks === undefined || ref.startTicks === t;
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
