import Table from 'cli-table3';

/**
 * Tables as etcdctl draws them (olekukonko/tablewriter): `+---+` borders, headers centred,
 * cells right-aligned, no lines between rows.
 */
export function etcdctlTable(header: string[], rows: Array<Array<string | number | bigint | boolean>>): string {
  const table = new Table({
    head: header,
    chars: {
      top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
      bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
      left: '|', 'left-mid': '', mid: '', 'mid-mid': '', right: '|', 'right-mid': '', middle: '|',
    },
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true },
    colAligns: header.map(() => 'right' as const),
  });
  for (const r of rows) table.push(r.map((c) => String(c)));
  const lines = table.toString().split('\n');
  // tablewriter draws a rule under the header; cli-table3 in compact mode does not.
  const rule = lines[0];
  return [lines[0], centreHeader(lines[1], header), rule, ...lines.slice(2)].join('\n');
}

/** cli-table3 centres with the odd space on the left; tablewriter puts it on the right. */
function centreHeader(line: string, header: string[]): string {
  const cells = line.split('|').slice(1, -1);
  return '|' + cells.map((cell, i) => {
    const w = cell.length - 2;
    const h = header[i];
    const left = Math.floor((w - h.length) / 2);
    return ' ' + ' '.repeat(left) + h + ' '.repeat(w - h.length - left) + ' ';
  }).join('|') + '|';
}

/** Columns separated by spaces, as crictl and kubectl print (Go's tabwriter, padding 3). */
export function columns(header: string[], rows: string[][], pad = 3): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] + pad))).join('').trimEnd()).join('\n');
}
