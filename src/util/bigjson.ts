/**
 * JSON that keeps 64-bit integers exact. etcd prints member IDs and revisions as bare uint64
 * numbers; JSON.stringify cannot, because JavaScript numbers lose precision above 2^53.
 * Values of type bigint are written as bare integers.
 */
const MARK = '\u0000bigint:';

export function stringifyBig(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? MARK + v.toString() : v), indent);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
