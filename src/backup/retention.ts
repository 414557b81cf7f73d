/**
 * Which backups to remove before the next one is made, pure. OpenShift's policies: keep a
 * number of backups (default 15) or stay under a size (default 10 GB), counting the backup about
 * to be made. Two backups are never removed: the newest good one (complete, and not proven bad
 * by a drill), whatever the policy says, and any that a restore or drill is reading. Oldest go
 * first.
 */
export type RetentionPolicy = { type: 'RetentionNumber'; maxNumberOfBackups: number } | { type: 'RetentionSize'; maxSizeOfBackupsGb: number };

export interface RetainedBackup {
  id: string;
  /** When it was made (ms since the epoch). */
  time: number;
  bytes: number;
  /** Complete and not failed by a drill: a backup one can restore. */
  good: boolean;
  /** A restore or drill is reading it. */
  inUse: boolean;
}

export interface RetentionPlan {
  remove: RetainedBackup[];
  keep: RetainedBackup[];
  /** Why something over the policy is kept (newest good one, in use), for the log. */
  notes: string[];
}

export const GB = 1024 ** 3;

/**
 * `incomingBytes`: the expected size of the backup about to be made (it counts against the
 * size limit; the number limit counts it as one).
 */
export function planRetention(backups: RetainedBackup[], policy: RetentionPolicy, incomingBytes = 0): RetentionPlan {
  const newestFirst = [...backups].sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
  const newestGood = newestFirst.find((b) => b.good);
  const keep: RetainedBackup[] = [];
  const remove: RetainedBackup[] = [];
  const notes: string[] = [];
  let count = 1;
  let bytes = incomingBytes;
  let full = false; // once one does not fit, every older one goes too: no gaps in the history
  for (const b of newestFirst) {
    full ||= policy.type === 'RetentionNumber' ? count + 1 > policy.maxNumberOfBackups : bytes + b.bytes > policy.maxSizeOfBackupsGb * GB;
    const fits = !full;
    if (fits || b === newestGood || b.inUse) {
      if (!fits) notes.push(`${b.id} is over the retention policy but kept: ${b === newestGood ? 'it is the newest good backup' : 'a restore or drill is reading it'}`);
      keep.push(b);
      count++;
      bytes += b.bytes;
    } else {
      remove.push(b);
    }
  }
  return { remove: remove.reverse(), keep, notes };
}
