import type { SnapshotRestoreResult } from '../../restore/snapshot-restore.js';

/** The outcome of `snapshot restore`: where the member is, and the revision it will start at. */
export function printRestore(r: SnapshotRestoreResult, format: 'simple' | 'json'): string {
  const b = r.rewrite?.bump;
  if (format === 'json') {
    return `${JSON.stringify({
      dataDir: r.dataDir,
      ...(b ? { latestRevision: Number(b.latest.main), bumpedRevision: Number(b.bumped), compactRevision: Number(b.bumped) } : {}),
    })}\n`;
  }
  const lines = [`Restored to ${r.dataDir}`];
  if (b) lines.push(`Revision ${b.latest.main} bumped to ${b.bumped}, marked compacted: the next write gets revision ${b.bumped + 1n}`);
  return `${lines.join('\n')}\n`;
}
