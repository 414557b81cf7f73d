/**
 * Decoding request bodies as kube-apiserver does: JSON (or YAML), kind/apiVersion defaulted from
 * the endpoint and checked against it, unknown and duplicate fields handled per fieldValidation
 * (Ignore: drop; Warn: drop + Warning header; Strict: 400), JSON type errors -> 400.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { KubeObject } from '../storage/store.js';
import { parseJsonWithDuplicates, JsonSyntaxError } from './json.js';
import { decodeProtobufBody, ProtobufError } from './protobuf.js';
import { prune, type PruneReport, type Schema } from './schema.js';

/** Fields in canonical order (schema order, map keys sorted): equal objects encode to equal bytes. */
export function canonical(def: ResourceDef, o: KubeObject): KubeObject {
  const c = prune(o, def.schema, { unknown: [], typeErrors: [] }) as KubeObject;
  const { kind: _k, apiVersion: _a, ...rest } = c;
  return { kind: def.kind, apiVersion: apiVersionOf(def), ...rest, metadata: rest.metadata ?? {} } as KubeObject;
}
import { errors } from './status.js';
import { apiVersionOf, kindsOf, type ResourceDef } from './resources.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';


export interface Parsed {
  value: unknown;
  duplicates: string[];
}

export function parseBody(body: Buffer, contentType: string | undefined, accepted = ['application/json', 'application/yaml']): Parsed {
  const mt = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const isJson = mt === 'application/json' || mt === '*/*' || mt === '';
  const isYaml = mt === 'application/yaml' || mt === 'application/x-yaml' || mt === 'text/yaml';
  if (mt === 'application/vnd.kubernetes.protobuf') {
    try {
      return { value: decodeProtobufBody(body), duplicates: [] };
    } catch (err) {
      if (err instanceof ProtobufError) {
        if (/cannot be sent as protobuf/.test(err.message)) throw errors.unsupportedMediaType(err.message);
        throw errors.badRequest(`couldn't decode the protobuf body: ${err.message}`);
      }
      throw err;
    }
  }
  if (!isJson && !isYaml) {
    throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
  }
  const text = body.toString('utf8');
  if (isYaml) {
    try {
      return { value: parseYaml(text, { uniqueKeys: true }), duplicates: [] };
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      if (err instanceof YAMLParseError && err.code === 'DUPLICATE_KEY') return { value: parseYaml(text, { uniqueKeys: false }), duplicates: [msg!] };
      throw errors.badRequest(`error converting YAML to JSON: ${msg}`);
    }
  }
  try {
    return parseJsonWithDuplicates(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw errors.badRequest(`couldn't get version/kind; json parse error: ${err.message}`);
    throw err;
  }
}

export interface Decoded {
  obj: KubeObject;
  warnings: string[];
}

/** Applies the schema and fieldValidation to a decoded object. `what` prefixes errors: `Secret in version "v1" cannot be handled as a Secret`. */
export function pruneAndCheck(value: unknown, schema: Schema, duplicates: string[], fv: FieldValidation, what: string, typeName: string): Decoded {
  const report: PruneReport = { unknown: [], typeErrors: [] };
  const obj = prune(value, schema, report) as KubeObject;
  const te = report.typeErrors[0];
  if (te) {
    const field = te.path ? `${typeName}.${te.path.replace(/\[\d+\]/g, '')}` : typeName;
    throw errors.badRequest(`${what}: json: cannot unmarshal ${te.got === 'number' ? 'number' : te.got} into Go struct field ${field} of type ${te.expected}`);
  }
  const problems = [...duplicates.map((d) => `duplicate field "${d}"`), ...report.unknown.map((u) => `unknown field "${u}"`)];
  if (problems.length && fv === 'Strict') throw errors.badRequest(`${what}: strict decoding error: ${problems.join(', ')}`);
  obj.metadata ??= {};
  return { obj, warnings: fv === 'Warn' ? problems : [] };
}

/** Decodes the body of a create/update against the endpoint's resource. */
export function decodeObject(def: ResourceDef, parsed: Parsed, fv: FieldValidation): Decoded {
  const v = parsed.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw errors.badRequest(`couldn't get version/kind; json parse error: the body is not a JSON object`);
  const o = v as Record<string, unknown>;
  const expectedAV = apiVersionOf(def);
  const av = o.apiVersion;
  const kind = o.kind;
  if (av !== undefined && av !== '' && av !== expectedAV) {
    throw errors.badRequest(`the API version in the data (${String(av)}) does not match the expected API version (${expectedAV})`);
  }
  if (kind !== undefined && kind !== '' && kind !== def.kind) {
    if (typeof kind !== 'string' || !kindsOf(expectedAV).has(kind)) {
      const [g, ver] = expectedAV.includes('/') ? expectedAV.split('/') : ['', expectedAV];
      throw errors.badRequest(`no kind "${String(kind)}" is registered for version "${expectedAV}" in scheme "${g || 'core'}/${ver}"`);
    }
    throw errors.badRequest(`${kind} in version "${def.version}" cannot be handled as a ${def.kind}: the kind in the data (${kind}) does not match the expected kind (${def.kind})`);
  }
  const what = `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`;
  const d = pruneAndCheck(v, def.schema, parsed.duplicates, fv, what, def.kind);
  const { kind: _k, apiVersion: _a, ...rest } = d.obj;
  return { obj: { kind: def.kind, apiVersion: expectedAV, ...rest } as KubeObject, warnings: d.warnings };
}
