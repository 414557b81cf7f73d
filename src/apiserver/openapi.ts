/**
 * OpenAPI v3, only as much as kubectl 1.32 needs (found with `kubectl -v=8`):
 * - `create`/`apply`/`replace`/`edit` validate by default (--validate=strict). kubectl first asks
 *   /openapi/v3 whether the PATCH operation of the object's GVK takes a `fieldValidation` query
 *   parameter; if it does, it sends fieldValidation=Strict and lets the server validate. If v3 is
 *   missing it falls back to downloading /openapi/v2 and validating client-side, and fails with
 *   "failed to download openapi" when that is missing too. So each group-version document lists
 *   the PATCH operations with `x-kubernetes-group-version-kind` and the `fieldValidation` parameter.
 * - `apply` uses a v3 schema for strategic merge patches only when the PATCH operation accepts
 *   application/strategic-merge-patch+json; we do not list it, so kubectl computes the patch from
 *   its compiled-in types (core kinds: strategic merge) or sends a JSON merge patch (the OpenShift
 *   kinds, unknown to kubectl) - both of which the server applies.
 * - For a `List` (and any kind whose PATCH v3 does not list) kubectl validates client-side with
 *   /openapi/v2, which it reads as gnostic protobuf. We serve a document without definitions:
 *   kubectl then skips client-side checks of kinds it cannot look up, and every item still meets
 *   the server's fieldValidation=Strict.
 */
import { createHash } from 'node:crypto';
import { RESOURCES, apiVersionOf, groups, type ResourceDef } from './resources.js';
import type { Result } from './rest.js';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json'];

function modelName(r: ResourceDef): string {
  const g = r.group ? r.group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${r.version}.${r.kind}`;
}

function gvDoc(group: string, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of RESOURCES.filter((x) => x.group === group && x.version === version)) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const base = `/${gvPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`;
    const ref = { $ref: `#/components/schemas/${modelName(r)}` };
    const op = (action: string, extra: Record<string, unknown> = {}) => ({
      operationId: `${action}${r.kind}`,
      parameters: QUERY_PARAMS,
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      ...extra,
    });
    paths[base] = { get: op('list'), post: op('post') };
    paths[`${base}/{name}`] = {
      get: op('get'),
      put: op('put'),
      delete: op('delete'),
      patch: op('patch', { requestBody: { content: Object.fromEntries(PATCH_TYPES.map((t) => [t, { schema: { type: 'object' } }])), required: true } }),
    };
    schemas[modelName(r)] = {
      type: 'object',
      description: `${r.kind} (${apiVersionOf(r)})`,
      'x-kubernetes-group-version-kind': [gvk],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

const docs = new Map<string, { text: string; hash: string }>();
for (const g of groups()) {
  for (const v of g.versions) {
    const text = JSON.stringify(gvDoc(g.group, v));
    docs.set(gvPath(g.group, v), { text, hash: createHash('sha512').update(text).digest('hex').slice(0, 64).toUpperCase() });
  }
}

// kube-apiserver answers with dots: Go's mime parser rejects the '@' that clients put in Accept.
const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** A gnostic openapi_v2.Document holding only swagger = "2.0" (field 1). */
const V2_DOC = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} };

function protoString(field: number, s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
}

const V2_PB = protoString(1, '2.0');

export function serveOpenAPI(path: string, _url: URL, accept = ''): Result | undefined {
  if (path === '/openapi/v2') {
    return accept.includes('protobuf') ? { code: 200, body: V2_PB, contentType: V2_PROTOBUF } : { code: 200, body: V2_DOC };
  }
  if (path === '/openapi/v3') {
    const paths = Object.fromEntries([...docs].map(([p, d]) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` }]));
    return { code: 200, body: { paths } };
  }
  if (path.startsWith('/openapi/v3/')) {
    const d = docs.get(path.slice('/openapi/v3/'.length));
    return d ? { code: 200, body: JSON.parse(d.text) } : undefined;
  }
  return undefined;
}
