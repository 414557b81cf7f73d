/** Query parameters of the kubelet API, read as the kubelet reads them (strconv.ParseBool forms). Pure. */

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Absent or empty is false; anything but ParseBool's forms is an error naming the parameter. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '') return false;
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new Error(`${name}: invalid value ${JSON.stringify(v)}: must be true or false`);
}
