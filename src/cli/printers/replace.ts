import type { ReplaceEvent } from '../../controlplane/replace.js';

const secs = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** What `host replace` does, one line each. */
export function printReplaceEvent(e: ReplaceEvent): string {
  switch (e.kind) {
    case 'killed':
      return `${e.host}: powered off (its agent and every process it ran)\n`;
    case 'moved':
      return `${e.host}: its folder is kept as ${e.to}\n`;
    case 'created':
      return `${e.host}: created (etcd client ${e.record.clientURL}, peer ${e.record.peerURL}, API server ${e.record.apiServerURL})\n`;
    case 'note':
      return `note: ${e.text}\n`;
    case 'progress':
      return `    ${e.state} (${secs(e.elapsedMs)})\n`;
    case 'done':
      return `${e.host} replaces ${e.dead}: the operator removed ${e.dead}'s member and added ${e.host}'s (as a learner, then promoted)\n`;
  }
}
