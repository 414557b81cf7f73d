/**
 * `backup_<stamp>.json`, next to a backup's two files: what `backup list` shows without opening
 * them (they may be encrypted), the files' sizes and sha256 (to verify copies), where the backup
 * came from, and the last drill's result. It names no key. It is written last, so a backup
 * without one is incomplete, here and on a remote.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../util/fsx.js';
import { errorMessage } from '../util/errors.js';

export const RECORD_KIND = 'EtcdBackupRecord';
export const RECORD_API_VERSION = 'etcd-ops.io/v1';

const DrillResult = z.looseObject({
  result: z.enum(['Passed', 'Failed']),
  /** When the drill finished (ISO 8601). */
  at: z.string(),
  durationMs: z.number(),
  /** Why it failed, on one line. */
  reason: z.string().optional(),
  /** What was proven, one line each. */
  proven: z.array(z.string()),
});

const RecordFile = z.looseObject({ name: z.string(), size: z.number(), sha256: z.string().optional() });

export const RecordSchema = z.looseObject({
  apiVersion: z.literal(RECORD_API_VERSION),
  kind: z.literal(RECORD_KIND),
  stamp: z.string(),
  createdAt: z.string(),
  possiblyDirty: z.boolean(),
  host: z.string().optional(),
  revision: z.number(),
  encrypted: z.boolean(),
  files: z.array(RecordFile),
  /** Set for backups a schedule made: which, and for what time. */
  scheduled: z.looseObject({ backup: z.string(), time: z.string() }).optional(),
  /** The EtcdBackup (run) that made it, when the operator did. */
  run: z.string().optional(),
  drill: DrillResult.optional(),
});

export type BackupRecord = z.infer<typeof RecordSchema>;
export type DrillSummary = z.infer<typeof DrillResult>;

export function recordName(stamp: string, possiblyDirty: boolean): string {
  return `backup_${stamp}${possiblyDirty ? '__POSSIBLY_DIRTY__' : ''}.json`;
}

export const RECORD_RE = /^backup_(.+?)((?:__POSSIBLY_DIRTY__)?)\.json$/;

export function parseRecord(text: string, source: string): BackupRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON (${errorMessage(err)})`);
  }
  const r = RecordSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export function readRecord(dir: string, name: string): BackupRecord | undefined {
  try {
    return parseRecord(readFileSync(join(dir, name), 'utf8'), join(dir, name));
  } catch {
    return undefined;
  }
}

export function writeRecord(dir: string, rec: BackupRecord): string {
  const path = join(dir, recordName(rec.stamp, rec.possiblyDirty));
  writeFileAtomic(path, `${JSON.stringify(rec, null, 2)}\n`, 0o600);
  return path;
}
