import { basename, dirname } from 'node:path';
import { listFolder } from './catalog.js';
import type { AgeIdentity } from './age.js';
import { drillBackup, drillSummary, locateBackup, type DrillReport } from './drill.js';
import { whileReading } from './in-use.js';
import { parseBackupName } from './names.js';
import { ensureRecord } from './remote.js';
import { writeRecord } from './record.js';

/**
 * Keeps a drill's result with the backup it proved (its record, made if the backup has none),
 * so `backup list` shows it. Returns the record's folder, or undefined when the snapshot is not
 * a named backup in a folder (a loose file).
 */
export async function recordDrill(r: DrillReport): Promise<string | undefined> {
  const dir = dirname(r.snapshot);
  const name = basename(r.snapshot);
  const e = listFolder(dir).find((x) => x.snapshot === name);
  if (!e || !e.complete) return undefined;
  const rec = e.record ?? (await ensureRecord(dir, e, false));
  rec.drill = drillSummary(r);
  writeRecord(dir, rec);
  return dir;
}

/**
 * `etcd-ops backup drill PATH` (and the console's "drill"): the drill, with the backup marked as
 * being read so retention leaves it, and its result kept in the backup's record.
 */
export async function drillAndRecord(o: { path: string; bundle?: string; identity?: AgeIdentity; log?: (line: string) => void }): Promise<DrillReport> {
  const where = locateBackup({ path: o.path, bundle: o.bundle });
  const stamp = parseBackupName(basename(where.snapshotPath).replace(/\.age$/, ''))?.stamp ?? basename(where.snapshotPath);
  const report = await whileReading(dirname(where.snapshotPath), stamp, 'drill', () => drillBackup({ path: where.snapshotPath, bundle: where.bundlePath, identity: o.identity, log: o.log }));
  await recordDrill(report).catch(() => undefined);
  return report;
}
