/**
 * SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1): what
 * `kubectl auth can-i` and `kubectl auth can-i --list` ask. Answered by the same authorizer that
 * guards every request, for the user who asks, and never stored.
 */
import type { UserInfo } from '../auth.js';
import { decodeObject, parseBody } from '../decode.js';
import { createOptions } from '../options.js';
import type { RequestInfo } from '../requestinfo.js';
import type { RequestScope, Result } from '../rest.js';
import { errors } from '../status.js';
import type { RBACAuthorizer } from './authorizer.js';
import type { Attributes, PolicyRule } from './rules.js';

export function attributesOf(user: UserInfo, info: RequestInfo): Attributes {
  return {
    user,
    verb: info.verb,
    resourceRequest: info.isResourceRequest,
    path: info.path,
    apiGroup: info.apiGroup,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function review(s: RequestScope, authorizer: RBACAuthorizer): Result {
  const fv = createOptions(s.query).fieldValidation;
  const { obj } = decodeObject(s.def, parseBody(s.body ?? Buffer.alloc(0), s.req.headers['content-type']), fv);
  const spec = (obj.spec ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const out = { kind: s.def.kind, apiVersion: obj.apiVersion, metadata: { creationTimestamp: null }, spec: obj.spec ?? {} };
  if (s.def.resource === 'selfsubjectrulesreviews') {
    const namespace = str((spec as Record<string, unknown>).namespace);
    const rules = authorizer.rulesFor(s.user, namespace);
    const resourceRules = rules.filter((r) => !r.nonResourceURLs?.length).map((r) => compact(r));
    const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
    return { code: 201, body: { ...out, status: { resourceRules, nonResourceRules, incomplete: false } } };
  }
  const ra = spec.resourceAttributes;
  const na = spec.nonResourceAttributes;
  if ((ra === undefined) === (na === undefined)) {
    throw errors.invalid(s.def.kind, s.def.group, '', [
      { type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: ra ?? null, detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' },
    ]);
  }
  const attrs: Attributes = ra
    ? {
        user: s.user,
        verb: str(ra.verb),
        resourceRequest: true,
        path: '',
        apiGroup: str(ra.group),
        resource: str(ra.resource),
        subresource: str(ra.subresource),
        namespace: str(ra.namespace),
        name: str(ra.name),
      }
    : { user: s.user, verb: str(na!.verb), resourceRequest: false, path: str(na!.path), apiGroup: '', resource: '', subresource: '', namespace: '', name: '' };
  const d = authorizer.authorize(attrs);
  return { code: 201, body: { ...out, status: { allowed: d.allowed } } };
}

/** A resource rule as SelfSubjectRulesReview reports it (no empty lists). */
function compact(r: PolicyRule): PolicyRule {
  return { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) };
}
