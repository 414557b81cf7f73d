import { basename, dirname } from 'node:path';
import { listFolder } from './catalog.js';
import type { DrillReport } from './drill.js';
import { drillSummary } from './drill.js';
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
