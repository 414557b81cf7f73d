import { objectLabel, type ObjectRef, type StaleStateReport } from './stale-state.js';

const MAX_NAMES = 10;

function names(refs: ObjectRef[]): string {
  const shown = refs.slice(0, MAX_NAMES).map(objectLabel).join(', ');
  return refs.length > MAX_NAMES ? `${shown}, and ${refs.length - MAX_NAMES} more` : shown;
}

/**
 * The stale-state report as an admin reads it: per resource what the restore reverts, loses and
 * brings back, then the 4.10.7 risks to fix by hand. Saved beside the journal and printed.
 */
export function formatStaleState(r: StaleStateReport, title: string): string {
  const out: string[] = [title, `backup:  ${r.backup.source} (revision ${r.backup.revision})`, `cluster: ${r.current.source} (revision ${r.current.revision})`, ''];
  const changed = r.resources.filter((x) => x.revert.length + x.lose.length + x.resurrect.length > 0);
  if (changed.length === 0) out.push('Nothing differs: every object is as in the backup.');
  for (const x of changed) {
    out.push(`${x.resource}:`);
    if (x.revert.length) out.push(`  revert    ${x.revert.length}: ${names(x.revert)}`);
    if (x.lose.length) out.push(`  lose      ${x.lose.length}: ${names(x.lose)}`);
    if (x.resurrect.length) out.push(`  resurrect ${x.resurrect.length}: ${names(x.resurrect)}`);
  }
  out.push('');
  if (r.risks.length === 0) {
    out.push('Risks outside etcd (4.10.7): none found (no volume, credential or local-volume object changed since the backup).');
  } else {
    out.push(`Risks outside etcd (4.10.7): ${r.risks.length}, to check by hand after the restore:`);
    const titles: Record<string, string> = {
      storage: 'Volumes (PersistentVolumes, PersistentVolumeClaims, VolumeAttachments)',
      credentials: 'Credential Secrets changed since the backup',
      'local-volume': 'Local volumes whose device paths the backup predates',
    };
    for (const kind of ['storage', 'credentials', 'local-volume'] as const) {
      const rs = r.risks.filter((x) => x.kind === kind);
      if (!rs.length) continue;
      out.push(`  ${titles[kind]}:`);
      for (const x of rs) out.push(`    ${x.resource} ${objectLabel(x.object)} (${x.change}): ${x.detail}`);
    }
  }
  if (r.unreadable) out.push(`Note: ${r.unreadable} encrypted value(s) could not be read with the keys at hand; their risks could not be judged.`);
  return `${out.join('\n')}\n`;
}
