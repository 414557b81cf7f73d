/**
 * Every query parameter the API server accepts, decoded into typed options the way kube-apiserver's
 * ParameterCodec decodes url.Values into metav1 ListOptions, GetOptions, CreateOptions,
 * UpdateOptions, PatchOptions and DeleteOptions, then validated as its handlers validate them.
 * Pure: no I/O. Handlers read options from here and never from the raw query.
 *
 * kube's conversions, which client libraries rely on:
 * - booleans in options structs go through runtime.Convert_Slice_string_To_bool: only "0" and
 *   "false" (any case) are false, anything else (`True`, `t`, `yes`, even empty) is true, and it
 *   never fails; `pretty` alone is read with strconv.ParseBool (anything else: not pretty);
 * - integers go through strconv.ParseInt(s, 10, 64): a sign and digits, within int64, else 400;
 * - of a repeated parameter the first value counts, except the lists (dryRun);
 * - unknown parameters are ignored.
 */
import { ApiError, errors, type FieldError } from './status.js';
import type { FieldValidation } from './decode.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** runtime.Convert_Slice_string_To_bool. */
export function kubeBool(value: string): boolean {
  return !(value === '0' || value.toLowerCase() === 'false');
}

/** strconv.ParseBool: undefined when the text is none of its forms. */
export function parseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** strconv.ParseInt(s, 10, 64) as a JS number (exact up to 2^53; larger values only bound timeouts). */
export function parseInt64(param: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw badParam(param, value, 'invalid syntax');
  const n = BigInt(value);
  if (n < INT64_MIN || n > INT64_MAX) throw badParam(param, value, 'value out of range');
  return Number(n);
}

function badParam(param: string, value: string, why: string): ApiError {
  return errors.badRequest(`invalid value for query parameter "${param}": strconv.ParseInt: parsing ${JSON.stringify(value)}: ${why}`);
}

function first(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null ? undefined : v;
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = first(q, name);
  return v === undefined ? undefined : kubeBool(v);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = first(q, name);
  return v === undefined ? undefined : parseInt64(name, v);
}

function invalid(kind: string, errs: FieldError[]): void {
  if (errs.length) throw errors.invalid(kind, 'meta.k8s.io', '', errs);
}

export interface ListOptions {
  labelSelector: string;
  fieldSelector: string;
  watch: boolean;
  allowWatchBookmarks: boolean;
  /** Undefined when not sent: kube tells "not set" from false. */
  sendInitialEvents?: boolean;
  resourceVersion: string;
  resourceVersionMatch: string;
  /** Undefined when not sent. */
  timeoutSeconds?: number;
  /** 0 or less: no paging (kube pages only for limit > 0). */
  limit: number;
  continue: string;
}

/** metav1.ListOptions from the query, validated as ValidateListOptions does (422 Invalid ListOptions). */
export function listOptions(q: URLSearchParams): ListOptions {
  const o: ListOptions = {
    labelSelector: first(q, 'labelSelector') ?? '',
    fieldSelector: first(q, 'fieldSelector') ?? '',
    watch: boolParam(q, 'watch') ?? false,
    allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks') ?? false,
    sendInitialEvents: boolParam(q, 'sendInitialEvents'),
    resourceVersion: first(q, 'resourceVersion') ?? '',
    resourceVersionMatch: first(q, 'resourceVersionMatch') ?? '',
    timeoutSeconds: intParam(q, 'timeoutSeconds'),
    limit: intParam(q, 'limit') ?? 0,
    continue: first(q, 'continue') ?? '',
  };
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (o.watch) {
    if (o.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
      errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan' });
    }
    if (match) {
      if (o.sendInitialEvents === undefined) errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
      if (match !== 'NotOlderThan') errs.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: match, supported: ['NotOlderThan'] });
      if (o.continue) errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden when continue is provided' });
    }
  } else {
    if (match) {
      if (!o.resourceVersion) errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided' });
      if (o.continue) errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch is forbidden when continue is provided' });
      if (match !== 'Exact' && match !== 'NotOlderThan') errs.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', value: match, supported: ['Exact', 'NotOlderThan', ''] });
      if (match === 'Exact' && o.resourceVersion === '0') errs.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"' });
    }
    if (o.sendInitialEvents !== undefined) errs.push({ type: 'FieldValueForbidden', field: 'sendInitialEvents', detail: 'sendInitialEvents is forbidden for list' });
  }
  invalid('ListOptions', errs);
  if (o.resourceVersion !== '') parseResourceVersion(o.resourceVersion);
  if (!o.watch && o.continue && o.resourceVersion !== '' && o.resourceVersion !== '0') {
    throw errors.badRequest('specifying resource version is not allowed when using continue');
  }
  return o;
}

/** A resourceVersion as etcd3's versioner parses it: a decimal uint64; 400 otherwise. */
export function parseResourceVersion(rv: string): number {
  if (!/^\d+$/.test(rv) || BigInt(rv) > 2n ** 64n - 1n) throw errors.badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

export interface GetOptions {
  resourceVersion: string;
}

export function getOptions(q: URLSearchParams): GetOptions {
  const rv = first(q, 'resourceVersion') ?? '';
  if (rv !== '') parseResourceVersion(rv);
  return { resourceVersion: rv };
}

export interface WriteOptions {
  dryRun: boolean;
  fieldManager: string;
  fieldValidation: FieldValidation;
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
}

function validateWrite(q: URLSearchParams, errs: FieldError[]): WriteOptions {
  const dryRun = q.getAll('dryRun');
  if (dryRun.some((v) => v !== 'All')) errs.push({ type: 'FieldValueNotSupported', field: 'dryRun', value: dryRun, supported: ['All'] });
  const fieldManager = first(q, 'fieldManager') ?? '';
  // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
  if (Buffer.byteLength(fieldManager) > 128) errs.push({ type: 'FieldValueTooLong', field: 'fieldManager', detail: 'may not be more than 128 bytes' });
  else if (/[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(fieldManager)) errs.push({ type: 'FieldValueInvalid', field: 'fieldManager', value: fieldManager, detail: 'must only contain printable characters' });
  const fv = first(q, 'fieldValidation') ?? '';
  // kube-apiserver's default is Warn.
  let fieldValidation: FieldValidation = 'Warn';
  if (fv === 'Ignore' || fv === 'Warn' || fv === 'Strict') fieldValidation = fv;
  else if (fv !== '') errs.push({ type: 'FieldValueNotSupported', field: 'fieldValidation', value: fv, supported: ['', 'Ignore', 'Strict', 'Warn'] });
  return { dryRun: dryRun.length > 0, fieldManager, fieldValidation };
}

export function createOptions(q: URLSearchParams): WriteOptions {
  const errs: FieldError[] = [];
  const o = validateWrite(q, errs);
  invalid('CreateOptions', errs);
  return o;
}

export function updateOptions(q: URLSearchParams): WriteOptions {
  const errs: FieldError[] = [];
  const o = validateWrite(q, errs);
  invalid('UpdateOptions', errs);
  return o;
}

/** Server-side apply is not served, so `force` (apply only) is refused as kube refuses it on other patches. */
export function patchOptions(q: URLSearchParams): PatchOptions {
  const errs: FieldError[] = [];
  const o: PatchOptions = { ...validateWrite(q, errs), force: boolParam(q, 'force') };
  if (o.force !== undefined) errs.push({ type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' });
  invalid('PatchOptions', errs);
  return o;
}

export interface DeleteOptions {
  dryRun: boolean;
  gracePeriodSeconds?: number;
  orphanDependents?: boolean;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/**
 * DeleteOptions from the query merged with those of the body (which win, field by field), then
 * ValidateDeleteOptions (422 Invalid DeleteOptions).
 */
export function deleteOptions(q: URLSearchParams, body: Record<string, unknown> = {}): DeleteOptions {
  const qDry = q.getAll('dryRun');
  const bDry = Array.isArray(body.dryRun) ? (body.dryRun as string[]) : undefined;
  const dry = bDry ?? qDry;
  const o: DeleteOptions = {
    dryRun: dry.length > 0,
    gracePeriodSeconds: typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : intParam(q, 'gracePeriodSeconds'),
    orphanDependents: typeof body.orphanDependents === 'boolean' ? body.orphanDependents : boolParam(q, 'orphanDependents'),
    propagationPolicy: typeof body.propagationPolicy === 'string' ? body.propagationPolicy : first(q, 'propagationPolicy'),
    preconditions: body.preconditions as DeleteOptions['preconditions'],
  };
  const errs: FieldError[] = [];
  if (o.orphanDependents !== undefined && o.propagationPolicy !== undefined) {
    errs.push({ type: 'FieldValueInvalid', field: 'propagationPolicy', value: o.propagationPolicy, detail: 'orphanDependents and deletionPropagation cannot be both set' });
  }
  if (o.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(o.propagationPolicy)) {
    errs.push({ type: 'FieldValueNotSupported', field: 'propagationPolicy', value: o.propagationPolicy, supported: ['Foreground', 'Background', 'Orphan', 'nil'] });
  }
  if (dry.some((v) => v !== 'All')) errs.push({ type: 'FieldValueNotSupported', field: 'dryRun', value: dry, supported: ['All'] });
  invalid('DeleteOptions', errs);
  return o;
}

/**
 * Whether to indent JSON, as kube-apiserver's isPrettyPrint: `pretty` read with strconv.ParseBool
 * (not a bool form: not pretty); without it, curl, Wget and browsers get indented output.
 */
export function isPretty(q: URLSearchParams, userAgent: string | undefined): boolean {
  const p = first(q, 'pretty');
  if (p !== undefined && p !== '') return parseBool(p) ?? false;
  const ua = userAgent ?? '';
  return ua.startsWith('curl') || ua.startsWith('Wget') || ua.startsWith('Mozilla/5.0');
}

/** Table output: includeObject=None|Metadata|Object (Metadata by default). */
export function includeObject(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = first(q, 'includeObject') ?? 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw errors.badRequest('includeObject must be one of None, Metadata, Object');
}
