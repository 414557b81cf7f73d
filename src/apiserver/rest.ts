/** The REST verbs over the store: get, list, create, update, patch, delete, deletecollection. */
import type { IncomingMessage } from 'node:http';
import type { Decoded as StoredObject, KubeObject, Store } from '../storage/store.js';
import { StorageError } from '../storage/errors.js';
import { namespacePrefix, objectKey, resourcePrefix } from '../storage/keys.js';
import type { ResourceDef } from './resources.js';
import { apiVersionOf, RESOURCES } from './resources.js';
import { ApiError, errors, successStatus } from './status.js';
import { canonical, decodeObject, parseBody, pruneAndCheck } from './decode.js';
import { convertIn, generateName, nowTimestamp, prepareCreate, prepareUpdate } from './strategy.js';
import { jsonPatch, mergePatch, strategicMergePatch, PatchError } from './patch.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { deleteOptionsSchema } from './types.js';
import { toTable, type IncludeObject } from './table.js';
import type { UserInfo } from './auth.js';
import { createOptions, deleteOptions, includeObject, listOptions, parseResourceVersion, patchOptions, updateOptions, type DeleteOptions } from './options.js';
import type { RBACAuthorizer } from './rbac/authorizer.js';
import { confirmNoEscalation } from './rbac/escalation.js';
import { SYSTEM_MASTERS } from './rbac/rules.js';

export interface RequestScope {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  verb: string;
  query: URLSearchParams;
  req: IncomingMessage;
  body?: Buffer;
  user: UserInfo;
  /** Set when a deletecollection deletes item by item. */
  deleteOptions?: DeleteOptions;
}

export interface Result {
  code: number;
  body: unknown;
  warnings?: string[];
  /** For a Buffer body: its media type. */
  contentType?: string;
}

const NAMESPACES = RESOURCES.find((r) => r.group === '' && r.resource === 'namespaces')!;
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

/** Namespaces the control plane needs: only system:masters may delete them (admission, after RBAC). */
export function isProtectedNamespace(name: string): boolean {
  return name.startsWith('openshift-') || ['default', 'kube-system', 'kube-public'].includes(name);
}

/** Turns storage failures into Statuses; everything else passes through. */
export function storageToApi(err: unknown, def: ResourceDef, name = ''): unknown {
  if (!(err instanceof StorageError)) return err;
  switch (err.code) {
    case 'NotFound':
      return errors.notFound(def, name);
    case 'AlreadyExists':
      return errors.alreadyExists(def, name);
    case 'Conflict':
      return errors.conflict(def, name);
    case 'Transform':
      return errors.internal(err.message, def, name);
    case 'NoSpace':
      return errors.insufficientStorage(
        `etcd database space exceeded (etcdserver: mvcc: database space exceeded): writes are refused until space is reclaimed; reads and deletes still work. Run \`etcd-ops defrag --recover\` to compact, defragment and disarm the NOSPACE alarm`,
      );
    case 'Timeout':
      return errors.timeout(`etcd did not answer in time; the request may or may not have been applied: ${err.message}`);
    case 'Unavailable':
      return errors.unavailable(err.message);
    case 'Compacted':
      return errors.gone(err.message);
    case 'TooLarge':
      return new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: etcdserver: request is too large', {});
    default:
      return errors.internal(err.message, def, name);
  }
}

export class Rest {
  /**
   * Namespaces last seen active, with the mod revision they were seen at. A create does not read its
   * namespace again: its transaction requires the namespace key to still be at that revision, and
   * reads it afresh only when that fails (kube-apiserver checks against an informer cache instead).
   */
  private readonly activeNamespaces = new Map<string, number>();

  constructor(
    private readonly store: Store,
    /** For escalation checks on RBAC writes; without it (tests of the REST layer alone) none are made. */
    private readonly authorizer?: RBACAuthorizer,
  ) {}

  /** Admission of an object about to be written (also for dry runs): RBAC escalation prevention. */
  private admit(s: RequestScope, obj: KubeObject): void {
    if (this.authorizer) confirmNoEscalation(this.authorizer, s.user, s.def, obj, s.namespace);
  }

  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return objectKey(def.prefix, def.namespaced ? namespace : undefined, name);
  }

  listPrefix(def: ResourceDef, namespace: string | undefined): string {
    return def.namespaced && namespace ? namespacePrefix(def.prefix, namespace) : def.prefix;
  }

  /** The mod revision of an active namespace (from the cache unless `fresh`); 404 when absent, 403 when terminating. */
  private async activeNamespaceRevision(ns: string, fresh: boolean): Promise<number> {
    const known = fresh ? undefined : this.activeNamespaces.get(ns);
    if (known !== undefined) return known;
    this.activeNamespaces.delete(ns);
    const cur = await this.store.get(objectKey(NAMESPACES.prefix, undefined, ns), NAMESPACES.groupResource).catch((err) => {
      throw storageToApi(err, NAMESPACES, ns);
    });
    if (!cur) throw errors.notFound(NAMESPACES, ns);
    if (cur.obj.metadata.deletionTimestamp || cur.obj.status?.phase === 'Terminating') {
      throw errors.forbidden({ group: '', resource: 'namespaces' }, ns, `unable to create new content in namespace ${ns} because it is being terminated`);
    }
    if (this.activeNamespaces.size >= 10_000) this.activeNamespaces.clear();
    this.activeNamespaces.set(ns, cur.modRevision);
    return cur.modRevision;
  }

  /** Writes to a namespace through this server drop it from the cache, so the next create reads it again. */
  private forgetNamespace(def: ResourceDef, name: string | undefined): void {
    if (def === NAMESPACES && name !== undefined) this.activeNamespaces.delete(name);
  }

  async get(s: RequestScope): Promise<Result> {
    const { def, name } = s;
    try {
      const d = await this.store.get(this.key(def, s.namespace, name!), def.groupResource);
      if (!d) throw errors.notFound(def, name!);
      if (s.subresource && s.subresource !== 'status') throw errors.pathNotFound();
      return { code: 200, body: this.maybeTable(s, [d.obj], { resourceVersion: d.obj.metadata.resourceVersion }, true) };
    } catch (err) {
      throw storageToApi(err, def, name);
    }
  }

  /** Table output when the client asks for it (kubectl get), else the object/list itself. */
  maybeTable(s: RequestScope, objs: KubeObject[], listMeta: Record<string, unknown>, single: boolean, list?: KubeObject): unknown {
    if (wantsTable(s.req.headers.accept)) {
      const include: IncludeObject = includeObject(s.query);
      return toTable(s.def.table, objs, listMeta, include);
    }
    return single ? objs[0] : list;
  }

  /** Undefined without selectors, so the store can count what remains (remainingItemCount). */
  selectors(s: RequestScope): ((d: StoredObject) => boolean) | undefined {
    const o = listOptions(s.query);
    const f = makeFilter(s.def, o.labelSelector, o.fieldSelector);
    return o.labelSelector || o.fieldSelector ? f : undefined;
  }

  async list(s: RequestScope): Promise<Result> {
    const { def } = s;
    const opts = listOptions(s.query);
    const filter = this.selectors(s);
    const limit = opts.limit > 0 ? opts.limit : 0;
    const cont = opts.continue;
    let startKey: string | undefined;
    let revision: number | undefined;
    const prefix = this.listPrefix(def, s.namespace);
    if (cont) {
      const c = decodeContinue(cont, prefix);
      startKey = c.startKey;
      revision = c.rv;
    } else if (opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      const rv = parseResourceVersion(opts.resourceVersion);
      // Not older than rv: a future one is an error, as kube's watch cache answers after waiting for it.
      await waitForRevision(this.store, rv);
      if (opts.resourceVersionMatch === 'Exact') revision = rv;
    }
    let page;
    try {
      page = await this.store.list(prefix, def.groupResource, { revision, limit, startKey, filter });
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Compacted' && cont) {
        throw errors.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      if (err instanceof StorageError && err.code === 'Compacted') throw errors.gone(`too old resource version: ${revision} (${revision})`);
      throw storageToApi(err, def);
    }
    const meta: Record<string, unknown> = { resourceVersion: String(page.revision) };
    if (page.nextKey) {
      meta.continue = encodeContinue(page.revision, page.nextKey, prefix);
      if (page.remaining !== undefined) meta.remainingItemCount = page.remaining;
    }
    const items = page.items.map((d) => d.obj);
    const list = { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: meta, items };
    return { code: 200, body: this.maybeTable(s, items, meta, false, list as unknown as KubeObject) };
  }

  async create(s: RequestScope): Promise<Result> {
    const { def } = s;
    const { fieldValidation: fv, dryRun } = createOptions(s.query);
    const { obj, warnings } = decodeObject(def, parseBody(s.body ?? Buffer.alloc(0), s.req.headers['content-type']), fv);
    const m = obj.metadata;
    let nsRevision: number | undefined;
    if (def.namespaced) {
      if (m.namespace && s.namespace && m.namespace !== s.namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!s.namespace) throw errors.badRequest('a namespace is required to create this resource: use /namespaces/{namespace}/...');
      // A dry run writes nothing, so nothing would notice a stale cache entry: it reads the namespace.
      nsRevision = await this.activeNamespaceRevision(s.namespace, dryRun);
    }
    if (!m.name) {
      if (m.generateName) m.name = generateName(m.generateName);
      else throw errors.invalid(def.kind, def.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
    }
    const convErr = convertIn(def, obj);
    if (convErr) throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${convErr}`);
    prepareCreate(def, obj, def.namespaced ? s.namespace : undefined);
    const final = canonical(def, obj);
    this.admit(s, final);
    if (dryRun) return { code: 201, body: final, warnings };
    const nsKey = nsRevision === undefined ? undefined : objectKey(NAMESPACES.prefix, undefined, s.namespace!);
    for (let attempt = 0; ; attempt++) {
      try {
        const guard = nsKey === undefined ? undefined : { key: nsKey, modRevision: nsRevision! };
        const d = await this.store.create(this.key(def, s.namespace, m.name), def.groupResource, final, guard);
        return { code: 201, body: d.obj, warnings };
      } catch (err) {
        if (!(nsKey !== undefined && err instanceof StorageError && err.code === 'PreconditionFailed' && err.key === nsKey)) throw storageToApi(err, def, m.name);
        // The namespace changed since we last saw it: check it again (404 or 403 now if it went away).
        if (attempt >= 8) throw errors.conflict(def, m.name);
        nsRevision = await this.activeNamespaceRevision(s.namespace!, true);
      }
    }
  }

  /** PUT: replace the object (or its status). Unconditional without metadata.resourceVersion, as kube does for these types. */
  async update(s: RequestScope): Promise<Result> {
    const { def, name } = s;
    const { fieldValidation: fv } = updateOptions(s.query);
    const { obj, warnings } = decodeObject(def, parseBody(s.body ?? Buffer.alloc(0), s.req.headers['content-type']), fv);
    const m = obj.metadata;
    if (m.name && m.name !== name) throw errors.badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    if (def.namespaced && m.namespace && m.namespace !== s.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    m.name = name;
    if (def.namespaced) m.namespace = s.namespace;
    else delete m.namespace;
    const convErr = convertIn(def, obj);
    if (convErr) throw errors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${convErr}`);
    const r = await this.writeUpdate(s, () => structuredClone(obj));
    return { ...r, warnings: [...warnings, ...(r.warnings ?? [])] };
  }

  async patch(s: RequestScope): Promise<Result> {
    const { def } = s;
    const { fieldValidation: fv } = patchOptions(s.query);
    const ct = (s.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const kinds = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
    if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor') {
      throw errors.unsupportedMediaType(
        `server-side apply (${ct}) is not supported by this API server: use client-side \`kubectl apply\` (the default), or a merge/JSON/strategic patch - accepted media types include: ${kinds.join(', ')}`,
      );
    }
    if (!kinds.includes(ct)) throw errors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${kinds.join(', ')}`);
    const parsed = parseBody(s.body ?? Buffer.alloc(0), 'application/json');
    const patchWarnings: string[] = [];
    if (parsed.duplicates.length) {
      const probs = parsed.duplicates.map((d) => `duplicate field "${d}"`);
      if (fv === 'Strict') throw errors.badRequest(`error decoding patch: strict decoding error: ${probs.join(', ')}`);
      if (fv === 'Warn') patchWarnings.push(...probs);
    }
    let extra: string[] = [];
    const r = await this.writeUpdate(s, (cur) => {
      let patched: unknown;
      try {
        if (ct === 'application/json-patch+json') patched = jsonPatch(cur, parsed.value);
        else if (ct === 'application/merge-patch+json') patched = mergePatch(cur, parsed.value);
        else patched = strategicMergePatch(cur, parsed.value);
      } catch (err) {
        if (err instanceof PatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`);
        throw err;
      }
      if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw errors.badRequest('the patch did not produce an object');
      const p = patched as KubeObject;
      if (p.apiVersion !== apiVersionOf(def) || p.kind !== def.kind) throw errors.badRequest(`the patch must not change apiVersion or kind`);
      const what = `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`;
      const d = pruneAndCheck(p, def.schema, [], fv, what, def.kind);
      extra = d.warnings;
      const convErr = convertIn(def, d.obj);
      if (convErr) throw errors.badRequest(`${what}: ${convErr}`);
      // kube's checkName: a patch may not rename or move the object (its key stays where it is).
      const pm = d.obj.metadata;
      if (pm.name !== cur.metadata.name) throw errors.badRequest(`the name of the object (${pm.name}) does not match the name on the URL (${cur.metadata.name})`);
      if (def.namespaced) {
        if (pm.namespace && pm.namespace !== s.namespace) throw errors.badRequest(`the namespace of the object (${pm.namespace}) does not match the namespace on the request (${s.namespace})`);
        pm.namespace = s.namespace;
      } else delete pm.namespace;
      return d.obj;
    });
    return { ...r, warnings: [...patchWarnings, ...extra, ...(r.warnings ?? [])] };
  }

  /** The shared read-modify-CAS of update and patch, with finalizer handling and stale rewrites. */
  private async writeUpdate(s: RequestScope, build: (cur: KubeObject) => KubeObject): Promise<Result> {
    const { def, name } = s;
    const key = this.key(def, s.namespace, name!);
    const dryRun = (s.verb === 'patch' ? patchOptions(s.query) : updateOptions(s.query)).dryRun;
    let out: KubeObject | undefined;
    let finalDelete = false;
    try {
      const r = await this.store.guaranteedUpdate(
        key,
        def.groupResource,
        (cur) => {
          if (!cur) throw errors.notFound(def, name!);
          const requested = build(structuredClone(cur.obj));
          const rv = requested.metadata?.resourceVersion;
          if (rv && rv !== String(cur.modRevision)) throw errors.conflict(def, name!);
          const next = canonical(def, prepareUpdate(def, requested, cur.obj, s.subresource));
          this.admit(s, next);
          out = next;
          if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length)) {
            finalDelete = true;
            return dryRun ? { action: 'keep' } : { action: 'delete' };
          }
          return dryRun ? { action: 'keep' } : { action: 'update', obj: next };
        },
      );
      if (finalDelete) return { code: 200, body: out };
      if (dryRun) return { code: 200, body: out };
      return { code: 200, body: r.result!.obj };
    } catch (err) {
      throw storageToApi(err, def, name);
    } finally {
      this.forgetNamespace(def, name);
    }
  }

  async delete(s: RequestScope): Promise<Result> {
    const { def, name } = s;
    const opts = s.deleteOptions ?? this.deleteOptions(s);
    const dryRun = opts.dryRun;
    const key = this.key(def, s.namespace, name!);
    if (def.group === '' && def.resource === 'namespaces' && UNDELETABLE_NAMESPACES.has(name!)) {
      throw errors.forbidden(def, name, 'this namespace may not be deleted');
    }
    if (def.group === '' && def.resource === 'namespaces' && isProtectedNamespace(name!) && !s.user.groups.includes(SYSTEM_MASTERS)) {
      throw errors.forbidden(def, name, 'this namespace holds control-plane state: only members of system:masters may delete it');
    }
    try {
      const raw = await this.store.getRaw(key);
      if (!raw) throw errors.notFound(def, name!);
      const pre = opts.preconditions ?? {};
      if (pre.resourceVersion && pre.resourceVersion !== String(raw.modRevision)) {
        throw errors.conflict(def, name!, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${raw.modRevision}). The object might have been modified`);
      }
      let cur: StoredObject | undefined;
      try {
        cur = this.store.decode(raw, def.groupResource);
      } catch (err) {
        // An object we cannot decrypt can still be deleted by key (nothing to decode), unless a uid precondition needs its content.
        if (pre.uid) throw err;
        if (dryRun) return { code: 200, body: successStatus(def, name!) };
        await this.store.deleteAt(key, raw.modRevision);
        return { code: 200, body: successStatus(def, name!) };
      }
      if (pre.uid && pre.uid !== cur.obj.metadata.uid) {
        throw errors.conflict(def, name!, `the UID in the precondition (${pre.uid}) does not match the UID in record (${cur.obj.metadata.uid ?? ''}). The object might have been deleted and then recreated`);
      }
      if (cur.obj.metadata.finalizers?.length) {
        // Finalizers pending: mark for deletion; the update that removes the last one deletes it.
        if (cur.obj.metadata.deletionTimestamp) return { code: 202, body: cur.obj };
        const next = structuredClone(cur.obj);
        next.metadata.deletionTimestamp = nowTimestamp();
        next.metadata.deletionGracePeriodSeconds = 0;
        if (dryRun) return { code: 202, body: next };
        const r = await this.store.guaranteedUpdate(key, def.groupResource, (c) => {
          if (!c) throw errors.notFound(def, name!);
          if (c.modRevision !== cur!.modRevision) throw new StorageError('Conflict', 'changed', key);
          return { action: 'update', obj: canonical(def, next) };
        });
        return { code: 202, body: r.result!.obj };
      }
      if (dryRun) return { code: 200, body: cur.obj };
      if (def.group === '' && def.resource === 'namespaces') await this.deleteNamespaceContents(name!);
      const rev = await this.store.deleteAt(key, raw.modRevision);
      const body = cur.obj;
      body.metadata.resourceVersion = String(rev);
      return { code: 200, body };
    } catch (err) {
      throw storageToApi(err, def, name);
    } finally {
      this.forgetNamespace(def, name);
    }
  }

  /** kube's namespace controller empties a deleted namespace; this server does it before removing it. */
  private async deleteNamespaceContents(ns: string): Promise<void> {
    for (const r of RESOURCES) {
      if (!r.namespaced) continue;
      const kvs = await this.store.listRaw(namespacePrefix(resourcePrefix(r.group, r.resource), ns));
      for (const kv of kvs) {
        await this.store.deleteAt(kv.key, kv.modRevision).catch(() => undefined);
      }
    }
  }

  async deleteCollection(s: RequestScope): Promise<Result> {
    const { def } = s;
    const filter = this.selectors(s);
    const opts = this.deleteOptions(s);
    let page;
    try {
      page = await this.store.list(this.listPrefix(def, s.namespace), def.groupResource, { filter });
    } catch (err) {
      throw storageToApi(err, def);
    }
    const deleted: KubeObject[] = [];
    for (const item of page.items) {
      const r = await this.delete({ ...s, verb: 'delete', name: item.obj.metadata.name, namespace: item.obj.metadata.namespace, body: undefined, deleteOptions: { dryRun: opts.dryRun } }).catch((err) => {
        if (err instanceof ApiError && err.code === 404) return undefined;
        throw err;
      });
      if (r) deleted.push(r.body as KubeObject);
    }
    return { code: 200, body: { kind: def.listKind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(page.revision) }, items: deleted } };
  }

  private deleteOptions(s: RequestScope): DeleteOptions {
    let body: Record<string, unknown> = {};
    if (s.body && s.body.length) {
      const parsed = parseBody(s.body, s.req.headers['content-type']);
      const what = 'DeleteOptions in version "v1" cannot be handled as a DeleteOptions';
      // JSON null decodes to empty options, as into a Go struct; anything but an object is a 400.
      if (parsed.value !== null && (typeof parsed.value !== 'object' || Array.isArray(parsed.value))) throw errors.badRequest(`${what}: the body is not a JSON object`);
      if (parsed.value !== null) body = pruneAndCheck(parsed.value, deleteOptionsSchema, [], 'Ignore', what, 'DeleteOptions').obj;
    }
    return deleteOptions(s.query, body);
  }
}

/**
 * Waits (bounded) until etcd has reached `rv`; a resourceVersion still ahead after 3 s is a 504
 * "Too large resource version", as kube-apiserver's watch cache answers.
 */
export async function waitForRevision(store: Store, rv: number): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const cur = await store.currentRevision().catch((err) => {
      throw storageToApi(err, { group: '', resource: '' } as ResourceDef);
    });
    if (cur >= rv) return;
    if (Date.now() > deadline) {
      throw new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${cur}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const p = part.split(';').map((x) => x.trim());
    return p.includes('as=Table') && p.includes('g=meta.k8s.io') && (p.includes('v=v1') || p.includes('v=v1beta1'));
  });
}

/** Fields a fieldSelector may use, per resource (metadata.name and metadata.namespace everywhere). */
export function selectableFields(def: ResourceDef, o: KubeObject): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': o.metadata.name ?? '' };
  if (def.namespaced) f['metadata.namespace'] = o.metadata.namespace ?? '';
  if (def.group === '' && def.resource === 'secrets') f.type = o.type ?? '';
  if (def.group === '' && def.resource === 'namespaces') f['status.phase'] = o.status?.phase ?? '';
  if (def.group === '' && def.resource === 'events') {
    const io = o.involvedObject ?? {};
    for (const k of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) f[`involvedObject.${k}`] = io[k] ?? '';
    f.reason = o.reason ?? '';
    f.type = o.type ?? '';
    f.source = o.source?.component ?? '';
    f.reportingComponent = o.reportingComponent ?? '';
  }
  return f;
}

function supportedFields(def: ResourceDef): string[] {
  return Object.keys(selectableFields(def, { metadata: {} } as KubeObject));
}

export function makeFilter(def: ResourceDef, labelSelector: string, fieldSelector: string): (d: StoredObject) => boolean {
  try {
    const labels = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector, supportedFields(def));
    return (d) => labels(d.obj.metadata.labels) && fields(selectableFields(def, d.obj));
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(err.message);
    throw err;
  }
}

/** Continue tokens as kube encodes them: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key relative to the prefix>"}. */
export function encodeContinue(rv: number, nextKey: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: nextKey.slice(prefix.length) })).toString('base64url');
}

export function decodeContinue(token: string, prefix: string): { rv: number; startKey: string } {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (c.v !== 'meta.k8s.io/v1' || typeof c.rv !== 'number' || typeof c.start !== 'string' || c.start.includes('..') || c.start.startsWith('/')) throw new Error('bad');
    return { rv: c.rv, startKey: prefix + c.start };
  } catch {
    throw errors.badRequest('continue key is not valid: the token is malformed; start the list again without continue');
  }
}
