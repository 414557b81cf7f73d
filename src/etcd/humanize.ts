/**
 * Byte sizes as etcdctl prints them (go-humanize Bytes): base 1000, one decimal below 10,
 * and Go's %.0f, which rounds exact halves to even.
 */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

export function humanizeBytes(size: number | bigint): string {
  const s = Number(size);
  if (s < 10) return `${s} B`;
  const e = Math.floor(Math.log(s) / Math.log(1000));
  const val = Math.floor((s / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : goRoundHalfEven(val)} ${UNITS[e]}`;
}

function goRoundHalfEven(v: number): string {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff === 0.5) return String(floor % 2 === 0 ? floor : floor + 1);
  return String(Math.round(v));
}
