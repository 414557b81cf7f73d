/**
 * The three patch types kubectl and client libraries send: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902), and strategic merge patch. The strategic one is applied as a merge patch
 * after honouring/stripping its directives ($patch, $retainKeys, $setElementOrder/...,
 * $deleteFromPrimitiveList/...): the served types have no merge-keyed lists that kubectl's
 * generated patches rely on beyond these. Pure.
 */
import { setOwn } from './schema.js';

export class PatchError extends Error {}

type J = unknown;
const isObj = (v: J): v is Record<string, J> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
/** A property of the patched document itself, never one inherited from Object.prototype. */
const own = (o: Record<string, J>, k: string): J => (Object.hasOwn(o, k) ? o[k] : undefined);

export function mergePatch(target: J, patch: J): J {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, J> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, mergePatch(own(out, k), v));
  }
  return out;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer "${p}": must start with "/"`);
  return p.slice(1).split('/').map(unescapeToken);
}

function arrayIndex(a: J[], tok: string, forAdd: boolean): number {
  if (forAdd && tok === '-') return a.length;
  if (!/^(0|[1-9]\d*)$/.test(tok)) throw new PatchError(`invalid array index "${tok}"`);
  const i = Number(tok);
  if (i > a.length || (!forAdd && i === a.length)) throw new PatchError(`array index ${i} out of bounds`);
  return i;
}

function getAt(doc: J, path: string[]): J {
  let cur = doc;
  for (const tok of path) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, tok, false)];
    else if (isObj(cur) && Object.prototype.hasOwnProperty.call(cur, tok)) cur = cur[tok];
    else throw new PatchError(`path "/${path.join('/')}" does not exist`);
  }
  return cur;
}

function parentOf(doc: J, path: string[], op: string): { parent: J; last: string } {
  if (path.length === 0) throw new PatchError(`${op} operation does not apply: the root cannot be the target`);
  const parent = getAt(doc, path.slice(0, -1));
  return { parent, last: path[path.length - 1]! };
}

function add(doc: J, path: string[], value: J): J {
  if (path.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, path, 'add');
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, clone(value));
  else if (isObj(parent)) setOwn(parent, last, clone(value));
  else throw new PatchError(`add operation does not apply: doc is missing path: "/${path.join('/')}"`);
  return doc;
}

function remove(doc: J, path: string[]): J {
  const { parent, last } = parentOf(doc, path, 'remove');
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isObj(parent) && Object.prototype.hasOwnProperty.call(parent, last)) delete parent[last];
  else throw new PatchError(`remove operation does not apply: doc is missing path: "/${path.join('/')}"`);
  return doc;
}

function deepEqual(a: J, b: J): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function jsonPatch(target: J, ops: J): J {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const [idx, op] of ops.entries()) {
    if (!isObj(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new PatchError(`operation ${idx}: needs "op" and "path"`);
    const path = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new PatchError(`operation ${idx}: add needs a value`);
        doc = add(doc, path, op.value);
        break;
      case 'remove':
        doc = remove(doc, path);
        break;
      case 'replace':
        if (!('value' in op)) throw new PatchError(`operation ${idx}: replace needs a value`);
        if (path.length === 0) doc = clone(op.value);
        else {
          getAt(doc, path);
          doc = add(remove(doc, path), path, op.value);
        }
        break;
      case 'move':
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError(`operation ${idx}: ${op.op} needs "from"`);
        const from = parsePointer(op.from);
        const v = clone(getAt(doc, from));
        if (op.op === 'move') doc = remove(doc, from);
        doc = add(doc, path, v);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, path), op.value)) throw new PatchError(`testing value ${op.path} failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

/** Strategic merge patch over types without merge-keyed lists: merge patch plus the directives. */
export function strategicMergePatch(target: J, patch: J): J {
  if (!isObj(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch);
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys as string[]) : undefined;
  let out: Record<string, J> = isObj(target) ? { ...target } : {};
  if (retain) out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.has(k)));
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = own(out, field);
      if (Array.isArray(cur) && Array.isArray(v)) setOwn(out, field, cur.filter((x) => !v.includes(x)));
      continue;
    }
    // Every other $-key is a directive ($patch, $retainKeys, $setElementOrder/..): never data.
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = strategicMergePatch(own(out, k), v);
    if (merged === undefined) delete out[k];
    else setOwn(out, k, Array.isArray(merged) ? merged.filter((e) => !(isObj(e) && e.$patch === 'delete')).map(stripDirectives) : merged);
  }
  return out;
}

function stripDirectives(v: J): J {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, J> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    setOwn(out, k, stripDirectives(x));
  }
  return out;
}

export { deepEqual };
