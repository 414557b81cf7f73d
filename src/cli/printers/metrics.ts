import { humanizeBytes } from '../../etcd/humanize.js';
import type { SpaceMetrics } from '../../etcd/metrics.js';
import { etcdctlTable } from '../../util/table.js';

const size = (v?: number) => (v === undefined ? '' : humanizeBytes(v));

export function printSpaceMetrics(rows: SpaceMetrics[], format: string): string {
  if (format === 'json') {
    return JSON.stringify(
      rows.map((r) => ({
        endpoint: r.endpoint,
        etcd_server_quota_backend_bytes: r.quotaBytes,
        etcd_mvcc_db_total_size_in_use_in_bytes: r.inUseBytes,
        etcd_mvcc_db_total_size_in_bytes: r.totalBytes,
        etcd_debugging_mvcc_db_total_size_in_bytes: r.debuggingTotalBytes,
        reclaimable_mb: r.reclaimableMB,
        ...(r.error ? { error: r.error } : {}),
      })),
      null,
      2,
    ) + '\n';
  }
  return etcdctlTable(
    ['ENDPOINT', 'QUOTA', 'DB SIZE', 'DB SIZE IN USE', 'DEBUGGING DB SIZE', 'RECLAIMABLE MB', 'ERRORS'],
    rows.map((r) => [
      r.endpoint,
      size(r.quotaBytes),
      size(r.totalBytes),
      size(r.inUseBytes),
      size(r.debuggingTotalBytes),
      r.reclaimableMB === undefined ? '' : r.reclaimableMB.toFixed(2),
      r.error ?? '',
    ]),
  ) + '\n';
}
