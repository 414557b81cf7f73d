import type { EncryptionReport } from '../../operator/encryption/report.js';
import { columns } from '../../util/table.js';

export function printEncryptionReport(r: EncryptionReport, format: string): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  const out: string[] = [];
  out.push(`Mode: ${r.mode}    Revision: ${r.latestRevision}    Nodes: ${r.nodes.map((n) => `${n.nodeName}@${n.currentRevision}${n.targetRevision ? `→${n.targetRevision}` : ''}`).join(' ')}`);
  out.push('');
  out.push(
    columns(
      ['COMPONENT', 'WRITE KEY', 'READ KEYS', 'MIGRATED', 'PROGRESS', 'ENCRYPTED'],
      r.components.map((c) => {
        const cond = c.conditions.find((x) => x.type === 'Encrypted');
        const latest = [...c.keys].pop();
        const progress = c.migration && !c.migration.completed ? `${c.migration.current ?? ''} ${c.migration.done.length}/${c.resources.length} resources, ${c.migration.objects} objects` : c.migration ? 'done' : '-';
        return [c.component, c.writeKey, c.readKeys.join(',') || '-', latest?.migratedResources.join(',') || '-', progress, cond ? `${cond.reason}: ${cond.message}` : '-'];
      }),
    ),
  );
  out.push('');
  out.push(columns(['KEY SECRET', 'MODE', 'MIGRATED AT'], r.components.flatMap((c) => c.keys.map((k) => [k.name, k.mode, k.migratedTimestamp ?? '-']))));
  return out.join('\n') + '\n';
}
