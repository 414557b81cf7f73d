import type { RestoreEvent } from '../../recovery/events.js';
import { formatStaleState } from '../../recovery/stale-report-text.js';
import type { StaleStateReport } from '../../recovery/stale-state.js';
import { stringifyBig } from '../../util/bigjson.js';

const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** The plan as numbered steps, before the question. */
export function printPlan(e: RestoreEvent & { kind: 'plan' }): string {
  const lines = ['The restore will:', ...e.steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${s}`)];
  if (e.lost.length) {
    lines.push(`Lost hosts (their folders are gone): ${e.lost.join(', ')}. The restore brings the others back; replace each lost one afterwards with \`etcd-ops host replace <host>\`.`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * cluster-restore.sh's transcript, word for word where the script has words (`...stopping
 * etcd-pod.yaml`, `Waiting for container etcd to stop`, dots, `complete`, `Moving etcd data-dir
 * ...`, `starting restore-etcd static pod`, ...), and the recovery's steps and progress around it.
 */
export function printRestoreEvent(e: RestoreEvent): { out?: string; err?: string } {
  switch (e.kind) {
    case 'plan':
      return { out: printPlan(e) };
    case 'resume':
      return { out: `Resuming the restore started at ${e.startedAt}: ${e.done} of ${e.total} steps are done (journal ${e.journal})\n` };
    case 'step':
      return { out: `[${e.index}/${e.total}] ${e.title}\n` };
    case 'step-skipped':
      return { out: `[${e.index}/${e.total}] done before: ${e.title}\n` };
    case 'step-done':
      return { out: `[${e.index}] done in ${secs(e.ms)}\n` };
    case 'stopping':
      return { out: `...stopping ${e.manifest}\n` };
    case 'waiting-container':
      return { out: `Waiting for container ${e.name} to stop\n` };
    case 'tick':
      return { out: '.' };
    case 'complete':
      return { out: e.ok ? 'complete\n' : 'timed out\n' };
    case 'moving-data-dir':
      return { out: `Moving etcd data-dir ${e.from} to ${e.to}\n` };
    case 'kept-previous':
      return { out: `keeping the previous ${e.path} as ${e.keptAs} (cluster-restore.sh would remove it)\n` };
    case 'restore-pod':
      return { out: 'starting restore-etcd static pod\n' };
    case 'snapshot-revision':
      return { out: `snapshot is at revision ${e.revision}\n` };
    case 'bump':
      return {
        out: e.from
          ? `bumping revisions by ${e.amount} (1.2 x revision ${e.from.revision} of ${e.from.path})\n`
          : `no moved-aside data dir to read a revision from (or --bump-revision given): bumping revisions by ${e.amount}\n`,
      };
    case 'single-node':
      return { out: 'restoring to a single node cluster\n' };
    case 'starting-manifest':
      return { out: `starting ${e.file}\n${e.from}\n` };
    case 'restored':
      return { out: `restored member ${e.host}: revision ${e.revision}, bumped to ${e.bumped} and marked compacted; the next write gets ${e.bumped + 1n} (cluster token ${e.token})\n` };
    case 'progress':
      return { out: `    ${e.what}: ${e.state} (${secs(e.elapsedMs)})\n` };
    case 'note':
      return { err: `etcd-ops: note: ${e.text}\n` };
    case 'report':
      return { out: `${e.text}(saved in ${e.path})\n` };
    case 'done':
      return { out: `${e.lines.join('\n')}\n` };
  }
}

export function printPreview(r: StaleStateReport, format: 'table' | 'json'): string {
  if (format === 'json') return `${stringifyBig(r, 2)}\n`;
  return formatStaleState(r, 'Restore preview: what a restore from this backup would do (nothing was changed)');
}
