/**
 * metav1.Status errors with kube-apiserver's reasons, codes and message shapes, so kubectl prints
 * its usual `Error from server (NotFound): secrets "x" not found`.
 */
import { ApiError, type StatusDetails } from '../kube/status.js';

export { ApiError, type StatusCause, type StatusDetails, type StatusObject } from '../kube/status.js';

/** How kube names a resource in messages: `secrets`, `routes.route.openshift.io`. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

export function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function details(r: QualifiedResource, name?: string): StatusDetails {
  const d: StatusDetails = {};
  if (name) d.name = name;
  if (r.group) d.group = r.group;
  d.kind = r.resource;
  return d;
}

export const errors = {
  notFound: (r: QualifiedResource, name: string) => new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, details(r, name)),
  alreadyExists: (r: QualifiedResource, name: string) => new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, details(r, name)),
  conflict: (r: QualifiedResource, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, details(r, name)),
  forbidden: (r: QualifiedResource, name: string | undefined, why: string) =>
    new ApiError(403, 'Forbidden', `${qualified(r)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, details(r, name)),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  methodNotAllowed: (message = 'the server does not allow this method on the requested resource') => new ApiError(405, 'MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError(406, 'NotAcceptable', message),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UnsupportedMediaType', message),
  tooLarge: (limit: number) => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  internal: (message: string, r?: QualifiedResource, name?: string) =>
    new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { ...(r ? details(r, name) : {}), causes: [{ message }] }),
  unavailable: (message: string) => new ApiError(503, 'ServiceUnavailable', message),
  timeout: (message: string) => new ApiError(504, 'Timeout', message),
  insufficientStorage: (message: string) => new ApiError(507, 'InsufficientStorage', message),
  pathNotFound: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  /** 422 with kube's "Kind "name" is invalid: [errors]" message. */
  invalid: (kind: string, group: string, name: string, causes: FieldError[]) => {
    const list = causes.map(fieldErrorText);
    const msg = `${kind} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
    return new ApiError(422, 'Invalid', msg, {
      name,
      ...(group ? { group } : {}),
      kind,
      causes: causes.map((c) => ({ reason: c.type, message: fieldErrorDetail(c), field: c.field })),
    });
  },
};

/** A field.Error: type is the cause reason kube reports (FieldValueInvalid, FieldValueRequired, ...). */
export interface FieldError {
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong';
  field: string;
  value?: unknown;
  detail?: string;
  supported?: string[];
}

const TYPE_TEXT: Record<FieldError['type'], string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
};

function quoteValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return '""';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function fieldErrorDetail(e: FieldError): string {
  const t = TYPE_TEXT[e.type];
  if (e.type === 'FieldValueRequired' || e.type === 'FieldValueForbidden' || e.type === 'FieldValueTooLong') return `${t}${e.detail ? `: ${e.detail}` : ''}`;
  if (e.type === 'FieldValueNotSupported') {
    return `${t}: ${quoteValue(e.value)}${e.supported ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : ''}`;
  }
  return `${t}: ${quoteValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
}

export function fieldErrorText(e: FieldError): string {
  return `${e.field}: ${fieldErrorDetail(e)}`;
}

/** A Status reporting success (deletes of objects that cannot be decoded return this). */
export function successStatus(r: QualifiedResource, name: string, uid?: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...details(r, name), ...(uid ? { uid } : {}) } };
}
