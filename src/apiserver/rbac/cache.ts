/**
 * The authorizer's view of Roles, ClusterRoles and their bindings: listed once, then kept current
 * by one etcd watch per resource, as kube-apiserver's RBAC authorizer reads shared informers. A
 * watch that ends (compaction, etcd gone) lists everything again. Until the first list succeeds
 * the source is not synced and the server is not ready; after that, as an informer does, it keeps
 * serving what it knows while it lists again (a slow etcd must not make every request a 503).
 */
import type { IEvent } from 'etcd3';
import type { KubeObject, Store } from '../../storage/store.js';
import { toRaw } from '../../storage/store.js';
import { watchPrefix, type EtcdWatch } from '../../storage/watch.js';
import { resourcePrefix, groupResourceString } from '../../storage/keys.js';
import type { Binding, PolicySource } from './authorizer.js';
import { RBAC_GROUP } from './policy.js';
import type { PolicyRule, RoleRef, Subject } from './rules.js';

type Kind = 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';
const KINDS: Kind[] = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function toRules(o: KubeObject): PolicyRule[] {
  return asArray<PolicyRule>(o.rules).filter((r) => r && typeof r === 'object' && Array.isArray(r.verbs));
}

function toBinding(o: KubeObject): Binding {
  const ref = (o.roleRef ?? {}) as RoleRef;
  return {
    name: String(o.metadata.name ?? ''),
    namespace: String(o.metadata.namespace ?? ''),
    subjects: asArray<Subject>(o.subjects).filter((s) => s && typeof s === 'object'),
    roleRef: { apiGroup: String(ref.apiGroup ?? ''), kind: String(ref.kind ?? ''), name: String(ref.name ?? '') },
  };
}

export class PolicyCache implements PolicySource {
  private readonly roles = new Map<string, PolicyRule[]>(); // "ns/name"
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly bindings = new Map<string, Map<string, Binding>>(); // ns → name → binding
  private readonly clusterBindings = new Map<string, Binding>();
  private watches: EtcdWatch[] = [];
  private stopped = false;
  private restarting = false;
  synced = false;

  constructor(
    private readonly store: Store,
    private readonly log: (msg: string) => void,
  ) {}

  clusterRoleBindings(): Iterable<Binding> {
    return this.clusterBindings.values();
  }

  roleBindings(namespace: string): Iterable<Binding> {
    return this.bindings.get(namespace)?.values() ?? [];
  }

  clusterRoleRules(name: string): PolicyRule[] | undefined {
    return this.clusterRoles.get(name);
  }

  roleRules(namespace: string, name: string): PolicyRule[] | undefined {
    return this.roles.get(`${namespace}/${name}`);
  }

  /** Lists and watches until stop(); retries every second while etcd does not answer. */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.resync();
        return;
      } catch (err) {
        if (attempt % 30 === 0) this.log(`RBAC cache waiting for etcd: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.close();
    this.watches = [];
  }

  private async resync(): Promise<void> {
    for (const w of this.watches) w.close();
    this.watches = [];
    let revision = 0;
    const lists = new Map<Kind, KubeObject[]>();
    for (const kind of KINDS) {
      const page = await this.store.list(resourcePrefix(RBAC_GROUP, kind), groupResourceString(RBAC_GROUP, kind), revision ? { revision } : {});
      revision = page.revision;
      lists.set(kind, page.items.map((d) => d.obj));
    }
    this.roles.clear();
    this.clusterRoles.clear();
    this.bindings.clear();
    this.clusterBindings.clear();
    for (const [kind, objs] of lists) for (const o of objs) this.apply(kind, o.metadata.namespace, o.metadata.name, o);
    for (const kind of KINDS) this.watches.push(await this.watch(kind, revision + 1));
    this.synced = true;
  }

  private async watch(kind: Kind, from: number): Promise<EtcdWatch> {
    const prefix = resourcePrefix(RBAC_GROUP, kind);
    const gr = groupResourceString(RBAC_GROUP, kind);
    const restart = (why: string) => {
      if (this.stopped || this.restarting) return;
      this.restarting = true;
      this.log(`RBAC cache: the ${kind} watch ended (${why}); listing again`);
      void this.start().finally(() => (this.restarting = false));
    };
    return watchPrefix(this.store.client, prefix, from, {
      onEvents: (events: IEvent[]) => {
        for (const ev of events) {
          const rel = ev.kv.key.toString('utf8').slice(prefix.length);
          const slash = rel.indexOf('/');
          const [ns, name] = slash >= 0 ? [rel.slice(0, slash), rel.slice(slash + 1)] : [undefined, rel];
          if (ev.type === 'Delete') {
            this.apply(kind, ns, name, undefined);
            continue;
          }
          try {
            this.apply(kind, ns, name, this.store.decode(toRaw(ev.kv), gr).obj);
          } catch (err) {
            // An object we cannot read grants nothing.
            this.apply(kind, ns, name, undefined);
            this.log(`RBAC cache: cannot read ${ev.kv.key.toString('utf8')}: ${(err as Error).message}`);
          }
        }
      },
      onCompacted: () => restart('compacted'),
      onError: (err) => restart(err.message),
    });
  }

  private apply(kind: Kind, ns: string | undefined, name: string, o: KubeObject | undefined): void {
    switch (kind) {
      case 'roles':
        if (o) this.roles.set(`${ns}/${name}`, toRules(o));
        else this.roles.delete(`${ns}/${name}`);
        return;
      case 'clusterroles':
        if (o) this.clusterRoles.set(name, toRules(o));
        else this.clusterRoles.delete(name);
        return;
      case 'rolebindings': {
        let m = this.bindings.get(ns ?? '');
        if (o) {
          if (!m) this.bindings.set(ns ?? '', (m = new Map()));
          m.set(name, { ...toBinding(o), namespace: ns ?? '' });
        } else m?.delete(name);
        return;
      }
      case 'clusterrolebindings':
        if (o) this.clusterBindings.set(name, toBinding(o));
        else this.clusterBindings.delete(name);
        return;
    }
  }
}
