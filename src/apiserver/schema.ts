/**
 * A small structural schema, enough for what kube-apiserver does with a decoded body:
 * drop (or report, under fieldValidation=Strict) unknown fields, reject wrong JSON types, and
 * write fields in one canonical order (struct order; map keys sorted, as Go's encoding/json does),
 * so that an unchanged object always encodes to the same bytes (no-op updates are detected by bytes).
 */
export type Schema =
  | { t: 'object'; props: Record<string, Schema> }
  | { t: 'map'; values: Schema }
  | { t: 'array'; items: Schema }
  | { t: 'string' }
  | { t: 'int' }
  | { t: 'number' }
  | { t: 'bool' }
  /** Anything goes, kept as sent (x-kubernetes-preserve-unknown-fields). */
  | { t: 'any' };

export const str: Schema = { t: 'string' };
export const int: Schema = { t: 'int' };
export const num: Schema = { t: 'number' };
export const bool: Schema = { t: 'bool' };
export const any: Schema = { t: 'any' };
export const obj = (props: Record<string, Schema>): Schema => ({ t: 'object', props });
export const map = (values: Schema = str): Schema => ({ t: 'map', values });
export const arr = (items: Schema): Schema => ({ t: 'array', items });

export interface PruneReport {
  /** Paths of unknown fields, as kube names them: "spec.foo", "metadata.labelz", "items[0].x". */
  unknown: string[];
  /** Type mismatches: the first one aborts decoding, as json.Unmarshal does. */
  typeErrors: { path: string; expected: string; got: string }[];
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Returns the value with unknown fields removed and known ones in canonical order. */
export function prune(value: unknown, schema: Schema, report: PruneReport, path = ''): unknown {
  if (value === null) return undefined; // Go's decoder leaves a null field at its zero value: omitted
  switch (schema.t) {
    case 'any':
      return value;
    case 'string':
      if (typeof value !== 'string') report.typeErrors.push({ path, expected: 'string', got: jsonType(value) });
      return value;
    case 'bool':
      if (typeof value !== 'boolean') report.typeErrors.push({ path, expected: 'bool', got: jsonType(value) });
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) report.typeErrors.push({ path, expected: 'int64', got: jsonType(value) });
      return value;
    case 'number':
      if (typeof value !== 'number') report.typeErrors.push({ path, expected: 'float64', got: jsonType(value) });
      return value;
    case 'array': {
      if (!Array.isArray(value)) {
        report.typeErrors.push({ path, expected: 'array', got: jsonType(value) });
        return value;
      }
      return value.map((v, i) => prune(v, schema.items, report, `${path}[${i}]`) ?? null);
    }
    case 'map': {
      if (jsonType(value) !== 'object') {
        report.typeErrors.push({ path, expected: 'map', got: jsonType(value) });
        return value;
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(value as object).sort()) {
        // Go names a map value's type error after the map field itself ("ConfigMap.data").
        const v = prune((value as Record<string, unknown>)[k], schema.values, report, path);
        if (v !== undefined) setOwn(out, k, v);
      }
      return out;
    }
    case 'object': {
      if (jsonType(value) !== 'object') {
        report.typeErrors.push({ path, expected: 'object', got: jsonType(value) });
        return value;
      }
      const src = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(schema.props)) {
        if (!Object.prototype.hasOwnProperty.call(src, k)) continue;
        const v = prune(src[k], s, report, join(path, k));
        if (v !== undefined) setOwn(out, k, v);
      }
      for (const k of Object.keys(src)) {
        if (!Object.prototype.hasOwnProperty.call(schema.props, k)) report.unknown.push(join(path, k));
      }
      return out;
    }
  }
}

/** Sets a property even when it is named __proto__ (JSON input may carry any key). */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
