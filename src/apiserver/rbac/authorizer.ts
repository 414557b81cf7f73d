/**
 * The RBAC authorizer over a policy source (kube's RBACAuthorizer and DefaultRuleResolver):
 * ClusterRoleBindings apply everywhere, RoleBindings in their namespace; a request is allowed
 * when some rule of some bound role allows it. Members of system:masters are allowed before RBAC
 * runs, as kube-apiserver's privileged-group authorizer does. Pure over the source.
 */
import type { UserInfo } from '../auth.js';
import { appliesTo, forbiddenReason, ruleAllows, SYSTEM_MASTERS, type Attributes, type PolicyRule, type RoleRef, type Subject } from './rules.js';

export interface Binding {
  name: string;
  namespace: string;
  subjects: Subject[];
  roleRef: RoleRef;
}

/** What the authorizer reads; the API server's is fed by a watch (cache.ts), tests give maps. */
export interface PolicySource {
  clusterRoleBindings(): Iterable<Binding>;
  roleBindings(namespace: string): Iterable<Binding>;
  clusterRoleRules(name: string): PolicyRule[] | undefined;
  roleRules(namespace: string, name: string): PolicyRule[] | undefined;
}

export interface Decision {
  allowed: boolean;
  /** Why not, in kube's words (for the 403 message). */
  reason: string;
}

export class RBACAuthorizer {
  constructor(private readonly policy: PolicySource) {}

  private rulesOf(ref: RoleRef, namespace: string): PolicyRule[] {
    if (ref.kind === 'ClusterRole') return this.policy.clusterRoleRules(ref.name) ?? [];
    if (ref.kind === 'Role' && namespace) return this.policy.roleRules(namespace, ref.name) ?? [];
    return [];
  }

  /** Visits the rules that apply to the user in the namespace ('' : cluster-wide only) until `visit` returns true. */
  private visit(user: UserInfo, namespace: string, visit: (r: PolicyRule) => boolean): boolean {
    for (const b of this.policy.clusterRoleBindings()) {
      if (!b.subjects.some((s) => appliesTo(user, s, ''))) continue;
      for (const r of this.rulesOf(b.roleRef, '')) if (visit(r)) return true;
    }
    if (!namespace) return false;
    for (const b of this.policy.roleBindings(namespace)) {
      if (!b.subjects.some((s) => appliesTo(user, s, namespace))) continue;
      for (const r of this.rulesOf(b.roleRef, namespace)) if (visit(r)) return true;
    }
    return false;
  }

  authorize(a: Attributes): Decision {
    if (a.user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
    if (this.visit(a.user, a.namespace, (r) => ruleAllows(a, r))) return { allowed: true, reason: '' };
    return { allowed: false, reason: forbiddenReason(a) };
  }

  /** The rules of a Role (in `namespace`) or ClusterRole; undefined when it does not exist. */
  roleRules(kind: 'Role' | 'ClusterRole', namespace: string, name: string): PolicyRule[] | undefined {
    return kind === 'ClusterRole' ? this.policy.clusterRoleRules(name) : this.policy.roleRules(namespace, name);
  }

  /** Every rule that applies to the user in the namespace: SelfSubjectRulesReview and escalation checks. */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const out: PolicyRule[] = [];
    this.visit(user, namespace, (r) => {
      out.push(r);
      return false;
    });
    return out;
  }
}
