import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { moveAside, writeFileAtomic } from '../util/fsx.js';

/**
 * The restore's journal on the recovery host: what was decided once (the backup, the hosts, the
 * cluster token, the bump) and each step as it finishes. A restore run again reads it and goes on
 * from the first unfinished step with the same decisions; every step is safe to repeat.
 */
export const JournalSchema = z.object({
  apiVersion: z.literal('etcd-ops.io/v1'),
  kind: z.literal('RestoreJournal'),
  mode: z.enum(['host', 'cluster']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  backup: z.object({ dir: z.string(), snapshot: z.string(), bundle: z.string(), sha256: z.string() }),
  recoveryHost: z.string(),
  otherHosts: z.array(z.string()),
  lostHosts: z.array(z.string()),
  clusterToken: z.string(),
  /** The revision bump (a decimal string: it may pass 2^53). */
  bump: z.string().optional(),
  bumpFrom: z.object({ path: z.string(), revision: z.string() }).optional(),
  /** The latest revisions before the forced redeployments, to know when the new ones are out. */
  forced: z.record(z.string(), z.object({ reason: z.string(), before: z.number() })).default({}),
  steps: z.record(z.string(), z.string()).default({}),
  failed: z.object({ step: z.string(), error: z.string(), at: z.string() }).optional(),
});

export type Journal = z.infer<typeof JournalSchema>;

export function readJournal(path: string): Journal | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError(`the restore journal ${path} is not JSON (${(err as Error).message}): move it aside to start a new restore`);
  }
  const r = JournalSchema.safeParse(raw);
  if (!r.success) throw new UserError(`${path} is not a restore journal (${r.error.issues[0]?.message}): move it aside to start a new restore`);
  return r.data;
}

export function writeJournal(path: string, j: Journal): void {
  writeFileAtomic(path, `${JSON.stringify(j, null, 2)}\n`, 0o600);
}

/** A finished restore's journal and report make room for the next one, kept under a timestamp. */
export function archiveFinished(paths: string[]): void {
  for (const p of paths) if (existsSync(p)) moveAside(p, 'finished');
}
