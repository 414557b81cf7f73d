/**
 * Escalation prevention, as kube's RBAC storage does it: a user may write a Role or ClusterRole
 * only with permissions it holds itself (or with the `escalate` verb on it), and a binding only
 * to a role whose permissions it holds (or with the `bind` verb on that role). system:masters
 * may do both. Throws kube's 403.
 */
import type { UserInfo } from '../auth.js';
import type { KubeObject } from '../../storage/store.js';
import type { ResourceDef } from '../resources.js';
import { errors } from '../status.js';
import type { RBACAuthorizer } from './authorizer.js';
import { RBAC_GROUP } from './policy.js';
import { ruleText, SYSTEM_MASTERS, uncovered, type PolicyRule } from './rules.js';

const ROLE_RESOURCES = new Set(['roles', 'clusterroles']);
const BINDING_RESOURCES = new Set(['rolebindings', 'clusterrolebindings']);

function allowedVerb(authz: RBACAuthorizer, user: UserInfo, verb: string, resource: string, namespace: string, name: string): boolean {
  return authz.authorize({ user, verb, resourceRequest: true, path: '', apiGroup: RBAC_GROUP, resource, subresource: '', namespace, name }).allowed;
}

function refuse(def: ResourceDef, name: string, user: UserInfo, missing: PolicyRule[]): never {
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(' ')}]`;
  throw errors.forbidden(def, name, `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(ruleText).join('\n')}`);
}

/** Checks a Role, ClusterRole, RoleBinding or ClusterRoleBinding about to be written; other kinds pass. */
export function confirmNoEscalation(authz: RBACAuthorizer, user: UserInfo, def: ResourceDef, obj: KubeObject, namespace: string | undefined): void {
  if (def.group !== RBAC_GROUP || user.groups.includes(SYSTEM_MASTERS)) return;
  const ns = namespace ?? '';
  const name = String(obj.metadata.name ?? '');
  if (ROLE_RESOURCES.has(def.resource)) {
    if (allowedVerb(authz, user, 'escalate', def.resource, ns, name)) return;
    const missing = uncovered(authz.rulesFor(user, ns), (obj.rules ?? []) as PolicyRule[]);
    if (missing.length) refuse(def, name, user, missing);
    return;
  }
  if (!BINDING_RESOURCES.has(def.resource)) return;
  const ref = (obj.roleRef ?? {}) as { kind?: string; name?: string };
  const roleResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
  // kube asks for `bind` in the binding's namespace, whichever kind of role it names.
  if (allowedVerb(authz, user, 'bind', roleResource, ns, String(ref.name ?? ''))) return;
  const rules = authz.roleRules(ref.kind === 'Role' ? 'Role' : 'ClusterRole', ns, String(ref.name ?? ''));
  if (!rules) throw errors.forbidden(def, name, `${roleResource}.${RBAC_GROUP} ${JSON.stringify(ref.name ?? '')} not found`);
  const missing = uncovered(authz.rulesFor(user, ns), rules);
  if (missing.length) refuse(def, name, user, missing);
}
