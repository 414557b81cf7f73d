/**
 * Object metadata validation as apimachinery does it (ValidateLabels, ValidateAnnotations,
 * IsQualifiedName, IsValidLabelValue), and the rbac.authorization.k8s.io/v1 rules of
 * ValidatePolicyRule, roleRef and subjects. Pure; errors carry kube's texts.
 */
import type { FieldError } from './status.js';

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_TEXT = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** The total size kube allows for all annotations of an object. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** validation.IsQualifiedName: "name" or "dns.subdomain/name". */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
      if (!SUBDOMAIN.test(prefix)) {
        errs.push(
          "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        );
      }
    }
  } else {
    return [`a qualified name ${QUALIFIED_NAME_TEXT} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) errs.push(`name part ${QUALIFIED_NAME_TEXT}`);
  return errs;
}

export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return errs;
}

const entries = (m: unknown): [string, unknown][] => (m && typeof m === 'object' && !Array.isArray(m) ? Object.entries(m) : []);

/** metadata.labels and metadata.annotations. Keys may be anything a client sends, __proto__ included. */
export function validateObjectMeta(meta: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of entries(meta.labels)) {
    for (const msg of qualifiedNameErrors(k)) errs.push({ type: 'FieldValueInvalid', field: 'metadata.labels', value: k, detail: msg });
    for (const msg of labelValueErrors(String(v))) errs.push({ type: 'FieldValueInvalid', field: 'metadata.labels', value: v, detail: msg });
  }
  let size = 0;
  for (const [k, v] of entries(meta.annotations)) {
    for (const msg of qualifiedNameErrors(k.toLowerCase())) errs.push({ type: 'FieldValueInvalid', field: 'metadata.annotations', value: k, detail: msg });
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', detail: `must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  return errs;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** ValidatePolicyRule over `rules`; namespaced Roles may not name non-resource URLs. */
export function validateRules(rules: unknown, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  list(rules).forEach((r0, i) => {
    const r = (r0 ?? {}) as Record<string, unknown>;
    const f = `rules[${i}]`;
    if (list(r.verbs).length === 0) errs.push({ type: 'FieldValueRequired', field: `${f}.verbs`, detail: 'verbs must contain at least one value' });
    if (list(r.nonResourceURLs).length > 0) {
      if (namespaced) errs.push({ type: 'FieldValueInvalid', field: `${f}.nonResourceURLs`, value: r.nonResourceURLs, detail: 'namespaced rules cannot apply to non-resource URLs' });
      if (list(r.apiGroups).length || list(r.resources).length || list(r.resourceNames).length) {
        errs.push({ type: 'FieldValueInvalid', field: `${f}.nonResourceURLs`, value: r.nonResourceURLs, detail: 'rules cannot apply to both regular resources and non-resource URLs' });
      }
      return;
    }
    if (list(r.apiGroups).length === 0) errs.push({ type: 'FieldValueRequired', field: `${f}.apiGroups`, detail: 'resource rules must supply at least one api group' });
    if (list(r.resources).length === 0) errs.push({ type: 'FieldValueRequired', field: `${f}.resources`, detail: 'resource rules must supply at least one resource' });
  });
  return errs;
}

/** roleRef and subjects of a RoleBinding (namespaced) or ClusterRoleBinding. */
export function validateBinding(o: Record<string, unknown>, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = (o.roleRef ?? {}) as Record<string, unknown>;
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push({ type: 'FieldValueNotSupported', field: 'roleRef.apiGroup', value: ref.apiGroup ?? '', supported: ['rbac.authorization.k8s.io'] });
  if (!kinds.includes(String(ref.kind ?? ''))) errs.push({ type: 'FieldValueNotSupported', field: 'roleRef.kind', value: ref.kind ?? '', supported: kinds });
  if (!ref.name) errs.push({ type: 'FieldValueRequired', field: 'roleRef.name', detail: '' });
  list(o.subjects).forEach((s0, i) => {
    const s = (s0 ?? {}) as Record<string, unknown>;
    const f = `subjects[${i}]`;
    if (!s.name) errs.push({ type: 'FieldValueRequired', field: `${f}.name`, detail: '' });
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup) errs.push({ type: 'FieldValueNotSupported', field: `${f}.apiGroup`, value: s.apiGroup, supported: [''] });
        if (!namespaced && !s.namespace) errs.push({ type: 'FieldValueRequired', field: `${f}.namespace`, detail: '' });
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== 'rbac.authorization.k8s.io') errs.push({ type: 'FieldValueNotSupported', field: `${f}.apiGroup`, value: s.apiGroup ?? '', supported: ['rbac.authorization.k8s.io'] });
        break;
      default:
        errs.push({ type: 'FieldValueNotSupported', field: `${f}.kind`, value: s.kind ?? '', supported: ['ServiceAccount', 'User', 'Group'] });
    }
  });
  return errs;
}
