/**
 * What a request is about, parsed once from its method, path and `watch` parameter, as kube's
 * RequestInfoFactory does. The router and the authorizer both read this one result, so a path
 * that reaches a resource's handler is always authorized as that resource. Pure.
 */
import { errors } from './status.js';
import { kubeBool } from './options.js';

export interface RequestInfo {
  /** A resource request (under /api/v1/... or /apis/<g>/<v>/...) or a non-resource URL. */
  isResourceRequest: boolean;
  /** The decoded path, without trailing slashes. */
  path: string;
  /** Kube's verb: get, list, watch, create, update, patch, delete, deletecollection; or the lower-cased method. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  /** '' when none: cluster-scoped, or across all namespaces. For namespaces/<n>, the namespace n itself. */
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the resource's name and subresource (none are served). */
  extra: string[];
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Subresources of a namespace: /namespaces/<n>/status is the namespace's, not a resource named "status". */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** decodeURIComponent, with a bad escape ("%ZZ", a stray "%") a 400 rather than an exception. */
export function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw errors.badRequest(`invalid URL escape in the request path: ${JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}...` : raw)}`);
  }
}

/**
 * `rawPath` is the request's path as sent (percent-encoded); `query` its parameters. Throws 400 for
 * a bad escape and 404 for an empty or invalid namespace segment: such a request never reaches
 * the authorizer or a handler.
 */
export function parseRequestInfo(method: string, rawPath: string, query: URLSearchParams): RequestInfo {
  const path = decodePath(rawPath).replace(/\/+$/, '') || '/';
  const info: RequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase(), apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', extra: [] };
  let parts = path.split('/').slice(1);
  if (parts[0] === 'api') {
    if (parts.length < 3) return info;
    info.apiVersion = parts[1]!;
    parts = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return info;
    info.apiGroup = parts[1]!;
    info.apiVersion = parts[2]!;
    parts = parts.slice(3);
  } else return info;
  info.apiPrefix = path.split('/')[1]!;
  info.isResourceRequest = true;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    const ns = parts[1]!;
    if (!LABEL.test(ns) || ns.length > 63) throw errors.pathNotFound();
    info.namespace = ns;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  [info.resource = '', info.name = '', info.subresource = ''] = parts;
  info.extra = parts.slice(3);
  // An empty segment where a name or subresource goes ("secrets//x") names nothing.
  if (parts.length >= 2 && info.name === '') throw errors.pathNotFound();
  if (parts.length >= 3 && info.subresource === '') throw errors.pathNotFound();
  if (info.resource === '') throw errors.pathNotFound();
  const named = parts.length >= 2;
  switch (method) {
    case 'GET': {
      const w = query.get('watch');
      info.verb = named ? 'get' : w !== null && kubeBool(w) ? 'watch' : 'list';
      break;
    }
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = named ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = '';
  }
  return info;
}
