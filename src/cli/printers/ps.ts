import type { HostPs } from '../../agent/ps.js';
import { humanDuration } from '../../util/time.js';
import { columns } from '../../util/table.js';

/** crictl ps columns, with the host first and the pid, since these are host processes. */
export function printPs(hosts: HostPs[], format: string, now = Date.now()): string {
  if (format === 'json') return JSON.stringify(hosts, null, 2) + '\n';
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const h of hosts) {
    if (!h.agentRunning) {
      notes.push(`${h.host}: agent not running (host down): \`etcd-ops host start ${h.host}\` brings it back`);
      continue;
    }
    for (const pod of h.status?.pods ?? []) {
      for (const c of pod.containers) {
        const created = c.startedAt ? `${humanDuration(now - Date.parse(c.startedAt))} ago` : '';
        const state = c.reason && c.state !== 'Running' ? `${c.state} (${c.reason})` : c.state;
        rows.push([h.host, c.id, c.image ?? '', created, state, String(c.ready), c.name, String(c.restarts), c.pid ? String(c.pid) : '-', pod.name, pod.revision !== undefined ? String(pod.revision) : '']);
      }
    }
    for (const e of h.status?.manifestErrors ?? []) notes.push(`${h.host}: manifest ${e.error}`);
  }
  const table = columns(['HOST', 'CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'READY', 'NAME', 'ATTEMPT', 'PID', 'POD', 'REVISION'], rows);
  return table + '\n' + notes.map((n) => n + '\n').join('');
}
