import type { CatalogEntry } from '../../backup/catalog.js';
import type { DrillReport } from '../../backup/drill.js';
import type { PushResult } from '../../backup/remote.js';
import { humanizeBytes } from '../../etcd/humanize.js';
import { etcdctlTable } from '../../util/table.js';
import { humanDuration } from '../../util/time.js';

/** `backup drill`: each step with its time, then what was proven (or why it failed). */
export function formatDrill(r: DrillReport, format: 'table' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  const lines = [`drill of ${r.snapshot}${r.bundle ? ` with ${r.bundle}` : ''}`];
  for (const s of r.steps) lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name.padEnd(8)} ${String(s.ms).padStart(7)} ms  ${s.detail}`);
  if (r.result === 'Passed') {
    lines.push(`PASSED in ${(r.durationMs / 1000).toFixed(1)}s; proven:`);
    for (const p of r.proven) lines.push(`  - ${p}`);
  } else {
    lines.push(`FAILED after ${(r.durationMs / 1000).toFixed(1)}s: ${r.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

function drillCell(e: CatalogEntry, now: number): string {
  const d = e.record?.drill;
  if (!d) return 'never';
  const age = `${humanDuration(now - Date.parse(d.at))} ago`;
  return d.result === 'Passed' ? `Passed ${age}` : `Failed ${age}: ${d.reason ?? ''}`;
}

function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export interface ListedFolder {
  where: string;
  entries: CatalogEntry[];
}

/** `backup list`: one row per backup, oldest first, per folder or remote. */
export function formatList(folders: ListedFolder[], format: 'table' | 'json', now = Date.now()): string {
  if (format === 'json') {
    const out = folders.map((f) => ({
      where: f.where,
      backups: f.entries.map((e) => ({
        stamp: e.stamp,
        time: new Date(e.time).toISOString(),
        host: e.record?.host ?? null,
        revision: e.record?.revision ?? null,
        bytes: e.bytes,
        encrypted: e.encrypted,
        possiblyDirty: e.possiblyDirty,
        complete: e.complete,
        ...(e.problem ? { problem: e.problem } : {}),
        inUse: e.inUse,
        drill: e.record?.drill ?? null,
        scheduled: e.record?.scheduled ?? null,
      })),
    }));
    return `${JSON.stringify(out, null, 2)}\n`;
  }
  const parts: string[] = [];
  for (const f of folders) {
    if (f.entries.length === 0) {
      parts.push(`${f.where}: no backups\n`);
      continue;
    }
    const rows = f.entries.map((e) => [
      localTime(e.time),
      e.record?.host ?? '-',
      e.record ? String(e.record.revision) : '-',
      humanizeBytes(e.bytes),
      e.encrypted ? 'yes' : 'no',
      e.possiblyDirty ? 'yes' : 'no',
      e.complete ? (e.inUse ? 'complete (in use)' : 'complete') : `incomplete: ${e.problem}`,
      drillCell(e, now),
    ]);
    parts.push(`${f.where}:\n${etcdctlTable(['TIME', 'HOST', 'REVISION', 'SIZE', 'ENCRYPTED', 'POSSIBLY DIRTY', 'STATE', 'DRILL'], rows)}`);
  }
  return parts.join('');
}

export function formatTransfers(verb: 'pushed' | 'pulled', where: string, results: PushResult[]): string {
  return results.map((r) => (r.pushed ? `${verb} ${r.stamp}: ${r.files.join(', ')} (${verb === 'pushed' ? 'verified by size and SHA-256 on ' : 'verified from '}${where})\n` : `${r.stamp}: already ${verb === 'pushed' ? 'at' : 'in'} ${where}\n`)).join('');
}
