import type { HostPs } from '../../agent/ps.js';

/** go-units' HumanDuration, as crictl prints CREATED ("About a minute ago", "2 hours ago"). */
export function goHumanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(ms / 60_000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(ms / 3_600_000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

/** crictl's table: Go's tabwriter with a minimum width of 20 and 3 spaces of padding. */
function tabwriter(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(20, ...rows.map((r) => r[i]!.length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('').trimEnd() + '\n').join('');
}

/** `crictl ps [-a]` on one host: running containers, or all of them. */
export function printCrictlPs(h: HostPs, all: boolean, now = Date.now()): string {
  const rows = [['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD']];
  for (const pod of h.status?.pods ?? []) {
    for (const c of pod.containers) {
      if (!all && c.state !== 'Running') continue;
      const created = c.startedAt ? `${goHumanDuration(now - Date.parse(c.startedAt))} ago` : '';
      rows.push([c.id, c.image ?? '', created, c.state === 'Running' ? 'Running' : 'Exited', c.name, String(c.restarts), pod.hash.slice(0, 13), pod.name]);
    }
  }
  return tabwriter(rows);
}
