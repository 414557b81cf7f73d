import { readFileSync } from 'node:fs';

/** User+system CPU seconds a process has used so far (Linux /proc), to tell where a benchmark's time goes. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) counted from 1; `rest` starts at field 3. Ticks are 1/100 s.
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}
