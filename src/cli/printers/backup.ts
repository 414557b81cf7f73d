import { encryptedPercent } from '../../backup/analyze.js';
import type { InspectReport } from '../../backup/inspect.js';
import type { BackupEvent } from '../../backup/run.js';
import { humanizeBytes } from '../../etcd/humanize.js';
import { stringifyBig } from '../../util/bigjson.js';
import { etcdctlTable } from '../../util/table.js';
import { formatStatus } from './snapshot.js';

/** cluster-backup.sh's transcript: what it prints on stdout, and etcd-ops' notes on stderr. */
export function printBackupEvent(e: BackupEvent): { out?: string; err?: string } {
  switch (e.kind) {
    case 'pod-skipped':
      return { err: `etcd-ops: note: ${e.why}: left out of the backup\n` };
    case 'pod-found':
      return { out: `found latest ${e.pod}: ${e.dir}\n` };
    case 'no-resources-dir':
      return { err: 'etcd-ops: warning: no --resources-dir: the archive will hold no static pod resources and no encryption keys\n' };
    case 'snapshot-saved':
      return { out: formatStatus(e.status, 'json') };
    case 'config-unreadable':
      return { err: `etcd-ops: warning: ${e.file}: ${e.error}\n` };
    case 'saved':
      return { out: `snapshot db and kube resources are successfully saved to ${e.dir}\n` };
  }
}

export function formatInspect(r: InspectReport, format: 'table' | 'json'): string {
  return format === 'json' ? `${stringifyBig(toJson(r), 2)}\n` : formatTable(r);
}

/** The JSON report: the same facts as the table, with percentages and counts as numbers. */
function toJson(r: InspectReport): unknown {
  return {
    snapshot: r.snapshot,
    bundle: r.bundle ?? null,
    revision: r.revision,
    keys: r.analysis.keys,
    resources: r.analysis.resources.map((x) => ({ ...x, encryptedPercent: encryptedPercent(x) })),
    keysNeeded: r.analysis.keysNeeded,
    warnings: r.warnings,
  };
}

function formatTable(r: InspectReport): string {
  const lines: string[] = [];
  const s = r.snapshot;
  const trailer = s.trailer === 'ok' ? `sha256 ${s.sha256!.slice(0, 12)}… verified` : 'no sha256 trailer';
  lines.push(`snapshot:  ${s.path} (${humanizeBytes(s.size)}, ${trailer}${s.possiblyDirty ? ', possibly dirty' : ''})`);
  if (r.bundle) {
    const m = r.bundle.manifest;
    const from = m ? `etcd-ops ${m.etcdOps.version}, etcd ${m.etcd.version}, ${m.host ? `host ${m.host}, ` : ''}member ${m.etcd.memberID} of cluster ${m.etcd.clusterID}` : 'no etcd-ops manifest';
    lines.push(`archive:   ${r.bundle.path} (${from})`);
    lines.push(`pods:      ${r.bundle.staticPods.join(', ') || '(none)'}`);
  } else {
    lines.push('archive:   (none)');
  }
  lines.push(`revision:  ${r.revision}`);
  lines.push(`keys:      ${r.analysis.keys} live (hash ${s.status.hash.toString(16)}, ${s.status.totalKey} entries, ${humanizeBytes(s.status.totalSize)})`);
  for (const e of r.bundle?.manifest?.encryption ?? []) {
    for (const res of e.resources) {
      const keys = res.keys.map((k) => (k.name !== undefined ? `${k.provider}:${k.name}` : k.provider)).join(', ');
      lines.push(`encryption: ${e.pod}-${e.revision}: ${res.resource}: writes ${res.mode}${res.writeKey !== undefined ? ` key ${res.writeKey}` : ''} (reads ${keys})`);
    }
  }
  lines.push('');

  const decrypting = r.bundle !== undefined;
  const rows = r.analysis.resources.map((x) => [
    x.resource,
    x.keys,
    x.json,
    x.protobuf,
    `${x.encrypted} (${encryptedPercent(x)}%)`,
    Object.entries(x.byKey).map(([k, n]) => `${k}=${n}`).join(' ') || '-',
    x.undecodable,
    x.encrypted && decrypting ? `${x.decrypted}/${x.encrypted}` : '-',
  ]);
  lines.push(etcdctlTable(['RESOURCE', 'KEYS', 'JSON', 'PROTOBUF', 'ENCRYPTED', 'BY KEY', 'UNDECODABLE', 'DECRYPTED'], rows));

  if (r.analysis.keysNeeded.length) {
    lines.push('');
    lines.push('keys the data needs:');
    lines.push(
      etcdctlTable(
        ['PROVIDER', 'KEY', 'VALUES', 'RESOURCES', 'IN ARCHIVE', 'DECRYPTED'],
        r.analysis.keysNeeded.map((k) => [k.provider, k.keyName ?? '-', k.values, k.resources.join(','), decrypting ? (k.inBackup ? 'yes' : 'NO') : '-', decrypting ? `${k.decrypted}/${k.values}` : '-']),
      ),
    );
  }

  lines.push('');
  if (r.warnings.length === 0) {
    const enc = r.analysis.keysNeeded.reduce((n, k) => n + k.values, 0);
    lines.push(enc ? `OK: the archive's keys decrypt all ${enc} encrypted values` : 'OK: no problems found');
  } else {
    for (const w of r.warnings) lines.push(`${w.level === 'error' ? 'ERROR' : 'WARNING'} (${w.code}): ${w.message}`);
  }
  return `${lines.join('\n')}\n`;
}
