/**
 * Per-resource create/update rules (kube's registry strategies and admission), pure:
 * system fields, defaults, validation, CRD status-subresource semantics, Secret rules, the
 * apiservers.config.openshift.io encryption-type admission.
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../storage/store.js';
import type { ResourceDef } from './resources.js';
import { errors, type FieldError } from './status.js';
import { deepEqual } from './patch.js';
import { setOwn } from './schema.js';
import { validateBinding, validateObjectMeta, validateRules } from './validation.js';
import { rulesOf } from './kind-rules.js';

export const ENCRYPTION_TYPES = ['', 'identity', 'aescbc', 'aesgcm', 'secretbox'];
const MANAGEMENT_STATE = /^(Managed|Unmanaged|Force|Removed)$/;

/** RFC 3339 with seconds precision, as metav1.Time marshals. */
export function nowTimestamp(d = new Date()): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export function validateName(rule: ResourceDef['nameRule'], name: string, field = 'metadata.name'): FieldError[] {
  const errs: FieldError[] = [];
  const inv = (detail: string) => errs.push({ type: 'FieldValueInvalid', field, value: name, detail });
  if (rule === 'path') {
    if (name === '.' || name === '..') inv(`may not be '${name}'`);
    for (const c of ['/', '%']) if (name.includes(c)) inv(`may not contain '${c}'`);
    return errs;
  }
  if (rule === 'label') {
    if (name.length > 63) inv('must be no more than 63 characters');
    if (!LABEL.test(name)) {
      inv("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
    }
    return errs;
  }
  if (name.length > 253) inv('must be no more than 253 characters');
  if (!SUBDOMAIN.test(name)) {
    inv("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }
  return errs;
}

/** Like names.SimpleNameGenerator: 5 characters from an alphabet without vowels and look-alikes. */
export function generateName(base: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const max = 63 - 5;
  let s = base.length > max ? base.slice(0, max) : base;
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

function b64Valid(v: string): string | undefined {
  const s = v.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 && !/^[A-Za-z0-9+/]*$/.test(s)) return `illegal base64 data at input byte ${Math.max(0, s.length - (s.length % 4))}`;
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  const eq = s.indexOf('=');
  if (eq >= 0 && (!/^=*$/.test(s.slice(eq)) || s.length - eq > 2)) return `illegal base64 data at input byte ${eq}`;
  if (s.length % 4 !== 0) return `illegal base64 data at input byte ${s.length}`;
  return undefined;
}

/**
 * Decode-time conversions that happen before validation in kube (Secret stringData -> data).
 * Returns a decode error text (400 BadRequest) or undefined.
 */
export function convertIn(def: ResourceDef, o: KubeObject): string | undefined {
  if (def.group === '' && (def.resource === 'secrets' || def.resource === 'configmaps')) {
    const field = def.resource === 'secrets' ? 'data' : 'binaryData';
    for (const v of Object.values(o[field] ?? {})) {
      if (typeof v !== 'string') continue;
      const bad = b64Valid(v);
      if (bad) return bad;
    }
  }
  if (def.group === '' && def.resource === 'secrets' && o.stringData) {
    o.data = { ...(o.data ?? {}) };
    for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) setOwn(o.data, k, Buffer.from(v, 'utf8').toString('base64'));
    o.data = Object.fromEntries(Object.entries(o.data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    delete o.stringData;
  }
  return undefined;
}

function validateCommon(def: ResourceDef, o: KubeObject): FieldError[] {
  const errs: FieldError[] = validateObjectMeta(o.metadata ?? {});
  if (def.group === 'rbac.authorization.k8s.io') {
    if (def.resource === 'roles' || def.resource === 'clusterroles') errs.push(...validateRules(o.rules, def.namespaced));
    else errs.push(...validateBinding(o, def.namespaced));
  }
  const check = (field: string, m: Record<string, string> | undefined, keyRule: RegExp, what: string) => {
    for (const k of Object.keys(m ?? {})) {
      if (!keyRule.test(k)) errs.push({ type: 'FieldValueInvalid', field: `${field}[${k}]`, value: k, detail: what });
    }
  };
  if (def.group === '' && (def.resource === 'secrets' || def.resource === 'configmaps')) {
    const what = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    check('data', o.data, CONFIG_KEY, what);
    if (def.resource === 'configmaps') {
      check('binaryData', o.binaryData, CONFIG_KEY, what);
      for (const k of Object.keys(o.binaryData ?? {})) {
        if (o.data && Object.hasOwn(o.data, k)) errs.push({ type: 'FieldValueInvalid', field: 'data', value: k, detail: 'duplicate of key present in binaryData' });
      }
    }
  }
  if (def.group === 'config.openshift.io' && def.resource === 'apiservers') {
    const t = o.spec?.encryption?.type;
    if (t !== undefined && !ENCRYPTION_TYPES.includes(t)) {
      errs.push({ type: 'FieldValueNotSupported', field: 'spec.encryption.type', value: t, supported: ENCRYPTION_TYPES });
    }
  }
  if (def.group === 'operator.openshift.io') {
    const ms = o.spec?.managementState;
    if (ms !== undefined && !MANAGEMENT_STATE.test(ms)) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.managementState', value: ms, detail: `spec.managementState in body should match '${MANAGEMENT_STATE.source}'` });
    }
  }
  if (def.group === 'route.openshift.io' && def.resource === 'routes') {
    if (!o.spec?.to?.name) errs.push({ type: 'FieldValueRequired', field: 'spec.to.name', detail: '' });
  }
  errs.push(...(rulesOf(def.groupResource).validate?.(o) ?? []));
  return errs;
}

function fail(def: ResourceDef, name: string, errs: FieldError[]): void {
  if (errs.length) throw errors.invalid(def.kind, def.group, name, errs);
}

/** Fills system fields and defaults of a new object and validates it. `name` is final (generateName applied). */
export function prepareCreate(def: ResourceDef, o: KubeObject, namespace: string | undefined): void {
  const m = o.metadata;
  m.uid = randomUUID();
  m.creationTimestamp = nowTimestamp();
  m.generation = 1;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  delete m.resourceVersion;
  delete m.selfLink;
  if (namespace !== undefined) m.namespace = namespace;
  else delete m.namespace;
  // CRD semantics: status cannot be set on create.
  if (def.statusSubresource) delete o.status;
  if (def.group === '' && def.resource === 'secrets') o.type ||= 'Opaque';
  if (def.group === '' && def.resource === 'namespaces') {
    o.spec = { finalizers: ['kubernetes'], ...(o.spec ?? {}) };
    o.status = { phase: 'Active' };
    m.labels = { ...(m.labels ?? {}), 'kubernetes.io/metadata.name': m.name };
  }
  if (def.group === 'route.openshift.io' && o.spec?.to) {
    o.spec.to = { kind: 'Service', ...o.spec.to, weight: o.spec.to.weight ?? 100 };
    o.spec.wildcardPolicy ||= 'None';
  }
  rulesOf(def.groupResource).defaults?.(o);
  const errs = [...validateName(def.nameRule, m.name ?? ''), ...validateCommon(def, o)];
  fail(def, m.name ?? '', errs);
}

const withoutMetaStatus = (o: KubeObject) => {
  const { metadata: _m, status: _s, kind: _k, apiVersion: _a, ...rest } = o;
  return rest;
};

/**
 * Builds the object to store from the requested one and the current one, and validates it.
 * `subresource` "status" keeps everything but status from the current object (CRD status strategy).
 */
export function prepareUpdate(def: ResourceDef, next: KubeObject, cur: KubeObject, subresource: string | undefined): KubeObject {
  let o: KubeObject;
  if (subresource === 'status') {
    o = structuredClone(cur);
    if (next.status !== undefined) o.status = next.status;
    else delete o.status;
  } else {
    o = next;
    const m = o.metadata;
    const cm = cur.metadata;
    const errs: FieldError[] = [];
    if (m.uid && m.uid !== cm.uid) errs.push({ type: 'FieldValueInvalid', field: 'metadata.uid', value: m.uid, detail: 'field is immutable' });
    fail(def, cm.name, errs);
    m.uid = cm.uid;
    m.creationTimestamp = cm.creationTimestamp;
    m.generation = cm.generation ?? 1;
    if (cm.deletionTimestamp) {
      m.deletionTimestamp = cm.deletionTimestamp;
      if (cm.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
      const added = (m.finalizers ?? []).filter((f: string) => !(cm.finalizers ?? []).includes(f));
      if (added.length) {
        fail(def, cm.name, [
          { type: 'FieldValueForbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f: string) => JSON.stringify(f)).join(', ')}}` },
        ]);
      }
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    delete m.selfLink;
    if (def.statusSubresource) {
      if (cur.status !== undefined) o.status = cur.status;
      else delete o.status;
    }
    if (def.group === '' && def.resource === 'namespaces') {
      o.status = cur.status;
      o.spec ??= cur.spec;
      m.labels = { ...(m.labels ?? {}), 'kubernetes.io/metadata.name': cm.name };
    }
    if (def.group === '' && def.resource === 'secrets') {
      o.type ||= cur.type ?? 'Opaque';
      const errs2: FieldError[] = [];
      if (o.type !== (cur.type ?? 'Opaque')) errs2.push({ type: 'FieldValueInvalid', field: 'type', value: o.type, detail: 'field is immutable' });
      if (cur.immutable === true) {
        if (!deepEqual(o.data ?? {}, cur.data ?? {})) errs2.push({ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' });
        if (o.immutable !== true) errs2.push({ type: 'FieldValueForbidden', field: 'immutable', detail: 'field is immutable when `immutable` is set' });
      }
      fail(def, cm.name, errs2);
    }
    if (def.group === '' && def.resource === 'configmaps' && cur.immutable === true) {
      const errs2: FieldError[] = [];
      if (!deepEqual(o.data ?? {}, cur.data ?? {}) || !deepEqual(o.binaryData ?? {}, cur.binaryData ?? {})) {
        errs2.push({ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' });
      }
      if (o.immutable !== true) errs2.push({ type: 'FieldValueForbidden', field: 'immutable', detail: 'field is immutable when `immutable` is set' });
      fail(def, cm.name, errs2);
    }
    if (def.group === 'rbac.authorization.k8s.io' && (def.resource === 'rolebindings' || def.resource === 'clusterrolebindings') && !deepEqual(o.roleRef, cur.roleRef)) {
      fail(def, cm.name, [{ type: 'FieldValueInvalid', field: 'roleRef', value: o.roleRef, detail: 'cannot change roleRef' }]);
    }
    fail(def, cm.name, rulesOf(def.groupResource).validateUpdate?.(o, cur) ?? []);
    // generation counts changes of everything but metadata and status.
    if (!deepEqual(withoutMetaStatus(o), withoutMetaStatus(cur))) m.generation = (cm.generation ?? 1) + 1;
  }
  fail(def, cur.metadata.name, validateCommon(def, o));
  return o;
}
