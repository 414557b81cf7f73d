import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeNetwork } from '../../src/netns/network.js';

/**
 * Last-resort cleanup for child processes a test started: whatever a test's own teardown
 * missed (an assertion threw, a timeout hit) is SIGKILLed when the test process exits.
 */
const groups = new Set<number>();
const pids = new Set<number>();

export function trackPid(pid: number): void {
  pids.add(pid);
}
export function untrackPid(pid: number): void {
  pids.delete(pid);
}
/** A process group (a detached leader and everything it started). */
export function trackGroup(pgid: number): void {
  groups.add(pgid);
}
export function untrackGroup(pgid: number): void {
  groups.delete(pgid);
}

function killAll(): void {
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {}
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Kills processes whose command line mentions `marker` (a temp dir): catches grandchildren. */
export function killByMarker(marker: string): void {
  spawnSync('pkill', ['-KILL', '-f', marker], { stdio: 'ignore' });
}

/** Kill-by-marker at exit too: a temp home's path is in every agent's and member's command line. */
const markers = new Set<string>();
export function trackMarker(marker: string): void {
  markers.add(marker);
}
/** A home's host network: its namespaces (and anything left running in them) and links. */
const networks = new Set<string>();
export function trackNetwork(id: string): void {
  networks.add(id);
}
export function removeTrackedNetwork(id: string): void {
  removeNetwork(id);
  networks.delete(id);
}
process.on('exit', () => {
  for (const m of markers) killByMarker(m);
  for (const id of networks) removeNetwork(id);
});

/**
 * Temp dirs the helpers made (data dirs, homes, API server dirs) go at exit, after the processes
 * above are killed: a day of test and benchmark runs otherwise fills the disk. A failed run keeps
 * them, since its error messages point at the logs inside.
 */
const tempDirs = new Set<string>();
export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
}
process.on('exit', (code) => {
  if (code !== 0 || (process.exitCode !== undefined && process.exitCode !== 0)) return;
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {}
  }
});

/** A fresh temp dir that goes at exit with the helpers' own (kept after a failed run). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  trackTempDir(dir);
  return dir;
}
