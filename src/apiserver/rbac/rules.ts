/**
 * rbac.authorization.k8s.io/v1 evaluation, as kube's plugin/pkg/auth/authorizer/rbac: which rule
 * allows which request, which subject a binding names, and when one set of rules covers another
 * (escalation prevention). Pure: no I/O.
 */
import type { UserInfo } from '../auth.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

/** What the authorizer decides on: kube's authorizer.Attributes. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  /** '' for cluster-scoped requests and for requests across all namespaces. */
  namespace: string;
  name: string;
}

/** The group kube-apiserver lets do anything, before any authorizer runs. */
export const SYSTEM_MASTERS = 'system:masters';

const has = (list: readonly string[] | undefined, v: string) => (list ?? []).includes(v);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, '*') || has(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, '*') || has(rule.apiGroups, group);
}

/** `combined` is "resource" or "resource/subresource"; "*\/status" matches any resource's status. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceURLMatches(rule, a.path);
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, combined, a.subresource) && resourceNameMatches(rule, a.name);
}

/** serviceaccount.MakeUsername. */
export const serviceAccountUser = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

/** Whether a binding's subject is this user. `bindingNamespace` defaults a ServiceAccount's namespace (RoleBindings). */
export function appliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && user.name === serviceAccountUser(ns, subject.name);
    }
  }
  return false;
}

/** Is every permission of `sub` (already broken down: one verb, group, resource, name or URL) held by `owner`? */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const allOf = (set: readonly string[] | undefined, wanted: readonly string[] | undefined) => (wanted ?? []).every((w) => has(set, w));
  const verbs = has(owner.verbs, '*') || allOf(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, '*') || allOf(owner.apiGroups, sub.apiGroups);
  const resources =
    has(owner.resources, '*') ||
    (sub.resources ?? []).every((want) =>
      (owner.resources ?? []).some(
        (r) => r === want || (r.endsWith('/*') && want.startsWith(r.slice(0, -1))) || (r.startsWith('*/') && want.endsWith(r.slice(1))),
      ),
    );
  const urls =
    has(owner.nonResourceURLs, '*') ||
    (sub.nonResourceURLs ?? []).every((want) => (owner.nonResourceURLs ?? []).some((u) => u === want || (u.endsWith('*') && want.startsWith(u.slice(0, -1)))));
  const subNames = sub.resourceNames ?? [];
  const ownerNames = owner.resourceNames ?? [];
  const names = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || allOf(ownerNames, subNames);
  return verbs && groups && resources && urls && names;
}

/** kube's BreakdownRule: one rule per verb × group × resource × name, or per verb × URL. */
export function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        if (rule.resourceNames?.length) for (const n of rule.resourceNames) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [n] });
        else out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
      }
    }
    for (const u of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [u] });
  }
  return out;
}

/** The rules of `wanted` that `owned` does not cover (empty: no escalation), as kube's validation.Covers. */
export function uncovered(owned: PolicyRule[], wanted: PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const w of wanted) for (const sub of breakdown(w)) if (!owned.some((o) => ruleCovers(o, sub))) missing.push(sub);
  return missing;
}

/** A rule as kube prints it in escalation errors: {APIGroups:["g"], Resources:["r"], Verbs:["v"]}. */
export function ruleText(r: PolicyRule): string {
  const q = (l: readonly string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** The reason kube-apiserver gives in a 403: `User "x" cannot list resource "secrets" in API group "" in the namespace "y"`. */
export function forbiddenReason(a: Attributes): string {
  if (!a.resourceRequest) return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}
