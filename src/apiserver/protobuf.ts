/**
 * Request bodies in Kubernetes' protobuf encoding. kubectl's typed clients (`kubectl create secret
 * generic`, `create configmap`, `create namespace`) POST `application/vnd.kubernetes.protobuf`
 * and there is no JSON fallback, so the server decodes these kinds (and accepts JSON answers,
 * which those clients also take). Envelope: "k8s\0" + runtime.Unknown{typeMeta{apiVersion=1,
 * kind=2}=1, raw=2}; raw is the generated.proto message of the kind. Field numbers follow
 * k8s.io/api/core/v1/generated.proto. Pure; bounded by the body size.
 */
import { setOwn } from './schema.js';
import { WIRE_BYTES, WIRE_VARINT, WireReader } from '../util/protowire.js';

export class ProtobufError extends Error {}

interface Field {
  no: number;
  wire: number;
  /** varint value (wire 0) */
  n?: number;
  /** bytes (wire 2) */
  b?: Buffer;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  const r = new WireReader(buf, (what, pos) => new ProtobufError(`truncated or malformed protobuf at byte ${pos}: ${what}`));
  while (!r.done()) {
    const tag = r.tag();
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_VARINT) out.push({ no, wire, n: r.uint() });
    else if (wire === WIRE_BYTES) {
      const b = r.bytes();
      out.push({ no, wire, b: Buffer.from(b.buffer, b.byteOffset, b.byteLength) });
    } else r.skip(wire);
  }
  return out;
}

type Spec = Record<number, [string, 'string' | 'bytes' | 'int' | 'bool' | 'strmap' | 'bytesmap' | 'strlist' | 'time' | ((b: Buffer) => unknown), boolean?]>;

function decodeMessage(buf: Buffer, spec: Spec): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const s = spec[f.no];
    if (!s) continue;
    const [name, type, repeated] = s;
    let v: unknown;
    if (typeof type === 'function') v = type(f.b ?? Buffer.alloc(0));
    else if (type === 'string') v = (f.b ?? Buffer.alloc(0)).toString('utf8');
    else if (type === 'bytes') v = (f.b ?? Buffer.alloc(0)).toString('base64');
    else if (type === 'int') v = f.n ?? 0;
    else if (type === 'bool') v = (f.n ?? 0) !== 0;
    else if (type === 'time') v = timeOf(f.b ?? Buffer.alloc(0));
    else if (type === 'strlist') {
      ((o[name] as string[] | undefined) ?? (o[name] = [])) as string[];
      (o[name] as string[]).push((f.b ?? Buffer.alloc(0)).toString('utf8'));
      continue;
    } else {
      const entry = decodeMessage(f.b ?? Buffer.alloc(0), { 1: ['key', 'string'], 2: ['value', type === 'bytesmap' ? 'bytes' : 'string'] });
      const m = (o[name] ??= {}) as Record<string, unknown>;
      setOwn(m, String(entry.key ?? ''), entry.value ?? '');
      continue;
    }
    if (repeated) ((o[name] ??= []) as unknown[]).push(v);
    // gogo-protobuf writes empty strings and zeros; JSON (omitempty) leaves them out.
    else if (v !== '' && v !== 0) o[name] = v;
  }
  return o;
}

function timeOf(b: Buffer): string {
  const t = decodeMessage(b, { 1: ['seconds', 'int'] });
  return new Date(Number(t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ownerReference: Spec = { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] };
const objectMeta: Spec = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int'],
  8: ['creationTimestamp', 'time'],
  9: ['deletionTimestamp', 'time'],
  10: ['deletionGracePeriodSeconds', 'int'],
  11: ['labels', 'strmap'],
  12: ['annotations', 'strmap'],
  13: ['ownerReferences', (b) => decodeMessage(b, ownerReference), true],
  14: ['finalizers', 'strlist'],
};
const meta = (b: Buffer) => decodeMessage(b, objectMeta);
const policyRule = (b: Buffer) => decodeMessage(b, { 1: ['verbs', 'strlist'], 2: ['apiGroups', 'strlist'], 3: ['resources', 'strlist'], 4: ['resourceNames', 'strlist'], 5: ['nonResourceURLs', 'strlist'] });
const subject = (b: Buffer) => decodeMessage(b, { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] });
const roleRef = (b: Buffer) => decodeMessage(b, { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] });

const KINDS: Record<string, Spec> = {
  'v1/Secret': { 1: ['metadata', meta], 2: ['data', 'bytesmap'], 3: ['type', 'string'], 4: ['stringData', 'strmap'], 5: ['immutable', 'bool'] },
  'v1/ConfigMap': { 1: ['metadata', meta], 2: ['data', 'strmap'], 3: ['binaryData', 'bytesmap'], 4: ['immutable', 'bool'] },
  'v1/Namespace': { 1: ['metadata', meta], 2: ['spec', (b) => decodeMessage(b, { 1: ['finalizers', 'strlist'] })] },
  // kubectl create role/rolebinding/clusterrole/clusterrolebinding, and auth can-i (k8s.io/api rbac/v1 and authorization/v1).
  'rbac.authorization.k8s.io/v1/Role': { 1: ['metadata', meta], 2: ['rules', policyRule, true] },
  'rbac.authorization.k8s.io/v1/ClusterRole': { 1: ['metadata', meta], 2: ['rules', policyRule, true] },
  'rbac.authorization.k8s.io/v1/RoleBinding': { 1: ['metadata', meta], 2: ['subjects', subject, true], 3: ['roleRef', roleRef] },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { 1: ['metadata', meta], 2: ['subjects', subject, true], 3: ['roleRef', roleRef] },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: ['metadata', meta],
    2: [
      'spec',
      (b) =>
        decodeMessage(b, {
          1: ['resourceAttributes', (r) => decodeMessage(r, { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] })],
          2: ['nonResourceAttributes', (r) => decodeMessage(r, { 1: ['path', 'string'], 2: ['verb', 'string'] })],
        }),
    ],
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': { 1: ['metadata', meta], 2: ['spec', (b) => decodeMessage(b, { 1: ['namespace', 'string'] })] },
  'v1/DeleteOptions': {
    1: ['gracePeriodSeconds', 'int'],
    2: ['preconditions', (b) => decodeMessage(b, { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] })],
    3: ['orphanDependents', 'bool'],
    4: ['propagationPolicy', 'string'],
    5: ['dryRun', 'strlist'],
  },
};

const MAGIC = Buffer.from('k8s\0', 'latin1');

/** Decodes a protobuf body into the JSON object kube would have decoded. */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('missing the k8s protobuf envelope');
  const env = decodeMessage(body.subarray(4), {
    1: ['typeMeta', (b) => decodeMessage(b, { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] })],
    2: ['raw', (b) => b],
  });
  const tm = (env.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const k = `${tm.apiVersion}/${tm.kind}`;
  const spec = Object.hasOwn(KINDS, k) ? KINDS[k] : undefined;
  if (!spec) throw new ProtobufError(`kind ${tm.kind ?? '?'} (${tm.apiVersion ?? '?'}) cannot be sent as protobuf here; use application/json`);
  return { kind: tm.kind, apiVersion: tm.apiVersion, ...decodeMessage((env.raw as Buffer | undefined) ?? Buffer.alloc(0), spec) };
}
