import { humanizeBytes } from '../etcd/humanize.js';
import { etcdctlTable } from '../cli/printers/table.js';
import type { SnapshotStatus } from './status.js';

export type StatusFormat = 'simple' | 'json' | 'table';

/**
 * `etcdctl snapshot status -w <format>` output, byte for byte (3.4): the hash in lowercase hex
 * without padding (simple, table) or decimal (json), the size humanized like go-humanize.
 */
export function formatStatus(s: SnapshotStatus, format: StatusFormat): string {
  const row = [s.hash.toString(16), s.revision.toString(), String(s.totalKey), humanizeBytes(s.totalSize)];
  switch (format) {
    case 'simple':
      return `${row.join(', ')}\n`;
    case 'json':
      return `{"hash":${s.hash},"revision":${s.revision},"totalKey":${s.totalKey},"totalSize":${s.totalSize}}\n`;
    case 'table':
      return `${etcdctlTable(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [row])}\n`;
  }
}
