import { humanizeBytes } from '../../etcd/humanize.js';
import type { EndpointHealth } from '../../etcd/health.js';
import { memberIdHex } from '../../etcd/ids.js';
import { etcdctlStatusJson, type EndpointStatus } from '../../etcd/status.js';
import { stringifyBig } from '../../util/bigjson.js';
import { goDuration } from '../../util/duration.js';
import { etcdctlTable } from '../../util/table.js';

export const STATUS_HEADER = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'];

export function statusRow(r: EndpointStatus): string[] {
  const s = r.status;
  if (!s) return [r.endpoint, '', '', '', '', '', '', '', '', r.error ?? ''];
  return [
    r.endpoint,
    memberIdHex(s.header.member_id),
    s.version,
    humanizeBytes(s.dbSize),
    String(s.header.member_id === s.leader),
    String(s.isLearner),
    String(s.raftTerm),
    String(s.raftIndex),
    String(s.raftAppliedIndex),
    s.errors.join(', '),
  ];
}

export function printEndpointStatus(rows: EndpointStatus[], format: string): string {
  if (format === 'json') return stringifyBig(rows.map(etcdctlStatusJson)) + '\n';
  if (format === 'table') return etcdctlTable(STATUS_HEADER, rows.map(statusRow)) + '\n';
  return rows.map((r) => statusRow(r).join(', ') + '\n').join('');
}

/** etcdctl 3.4 prints its simple health lines, healthy or not, on stderr. */
export function printEndpointHealth(rows: EndpointHealth[], format: string): { out: string; err: string } {
  if (format === 'json') {
    return { out: JSON.stringify(rows.map((r) => ({ endpoint: r.endpoint, health: r.health, took: goDuration(r.tookMs), ...(r.error ? { error: r.error } : {}) }))) + '\n', err: '' };
  }
  if (format === 'table') {
    return { out: etcdctlTable(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], rows.map((r) => [r.endpoint, String(r.health), goDuration(r.tookMs), r.error ?? ''])) + '\n', err: '' };
  }
  const err = rows
    .map((r) => (r.health ? `${r.endpoint} is healthy: successfully committed proposal: took = ${goDuration(r.tookMs)}\n` : `${r.endpoint} is unhealthy: ${r.error}\n`))
    .join('');
  return { out: '', err };
}
