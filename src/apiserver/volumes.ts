/**
 * The registry rules of PersistentVolume, PersistentVolumeClaim and VolumeAttachment, pure: kube's
 * defaults (Retain, Filesystem, phase Pending) and the validation that matters to a volume's user
 * (capacity, access modes, exactly one source, an immutable claim and attachment spec).
 */
import type { KubeObject } from '../storage/store.js';
import type { FieldError } from './status.js';
import { deepEqual } from './patch.js';
import type { KindRules } from './kind-rules.js';

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const RECLAIM = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const SOURCES = ['hostPath', 'local', 'nfs', 'csi', 'iscsi', 'fc'];

function accessModeErrors(modes: unknown, field: string, detail: string): FieldError[] {
  if (!Array.isArray(modes) || modes.length === 0) return [{ type: 'FieldValueRequired', field, detail }];
  return modes.filter((m) => !ACCESS_MODES.includes(m)).map((m) => ({ type: 'FieldValueNotSupported', field, value: m, supported: ACCESS_MODES }) as FieldError);
}

function supported(v: unknown, field: string, values: string[]): FieldError[] {
  return v === undefined || values.includes(v as string) ? [] : [{ type: 'FieldValueNotSupported', field, value: v, supported: values }];
}

export const persistentVolumeRules: KindRules = {
  defaults(o: KubeObject) {
    o.spec ??= {};
    o.spec.persistentVolumeReclaimPolicy ||= 'Retain';
    o.spec.volumeMode ||= 'Filesystem';
    o.status = { phase: 'Pending' };
  },
  validate(o: KubeObject): FieldError[] {
    const s = o.spec ?? {};
    const errs: FieldError[] = [];
    const cap = Object.keys(s.capacity ?? {});
    if (cap.length === 0) errs.push({ type: 'FieldValueRequired', field: 'spec.capacity', detail: '' });
    for (const k of cap) if (k !== 'storage') errs.push({ type: 'FieldValueNotSupported', field: `spec.capacity`, value: k, supported: ['storage'] });
    errs.push(...accessModeErrors(s.accessModes, 'spec.accessModes', ''));
    errs.push(...supported(s.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', RECLAIM));
    errs.push(...supported(s.volumeMode, 'spec.volumeMode', VOLUME_MODES));
    const sources = SOURCES.filter((k) => s[k] !== undefined);
    if (sources.length === 0) errs.push({ type: 'FieldValueRequired', field: 'spec', detail: 'must specify a volume type' });
    if (sources.length > 1) errs.push({ type: 'FieldValueForbidden', field: `spec.${sources[1]}`, detail: 'may not specify more than 1 volume type' });
    if (s.hostPath && !s.hostPath.path) errs.push({ type: 'FieldValueRequired', field: 'spec.hostPath.path', detail: '' });
    if (s.local) {
      if (!s.local.path) errs.push({ type: 'FieldValueRequired', field: 'spec.local.path', detail: '' });
      if (!s.nodeAffinity) errs.push({ type: 'FieldValueRequired', field: 'spec.nodeAffinity', detail: 'Local volume requires node affinity' });
    }
    return errs;
  },
};

export const persistentVolumeClaimRules: KindRules = {
  defaults(o: KubeObject) {
    o.spec ??= {};
    o.spec.volumeMode ||= 'Filesystem';
    o.status = { phase: 'Pending' };
  },
  validate(o: KubeObject): FieldError[] {
    const s = o.spec ?? {};
    const errs = accessModeErrors(s.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
    if (!s.resources?.requests?.storage) errs.push({ type: 'FieldValueRequired', field: 'spec.resources[storage]', detail: '' });
    errs.push(...supported(s.volumeMode, 'spec.volumeMode', VOLUME_MODES));
    return errs;
  },
  validateUpdate(o: KubeObject, cur: KubeObject): FieldError[] {
    // A claim's spec is fixed once made, but for a larger request and its binding to a volume.
    const strip = (spec: Record<string, any> | undefined, volumeName: unknown) => ({ ...(spec ?? {}), resources: undefined, volumeAttributesClassName: undefined, volumeName });
    const bindsNow = !cur.spec?.volumeName ? o.spec?.volumeName : cur.spec?.volumeName;
    if (!deepEqual(strip(o.spec, o.spec?.volumeName), strip(cur.spec, bindsNow))) {
      return [{ type: 'FieldValueForbidden', field: 'spec', detail: 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' }];
    }
    return [];
  },
};

export const volumeAttachmentRules: KindRules = {
  validate(o: KubeObject): FieldError[] {
    const s = o.spec ?? {};
    const errs: FieldError[] = [];
    if (!s.attacher) errs.push({ type: 'FieldValueRequired', field: 'spec.attacher', detail: '' });
    if (!s.nodeName) errs.push({ type: 'FieldValueRequired', field: 'spec.nodeName', detail: '' });
    const n = (s.source?.persistentVolumeName ? 1 : 0) + (s.source?.inlineVolumeSpec ? 1 : 0);
    if (n !== 1) errs.push({ type: 'FieldValueInvalid', field: 'spec.source', value: s.source ?? {}, detail: 'must specify exactly one of inlineVolumeSpec and persistentVolumeName' });
    return errs;
  },
  validateUpdate(o: KubeObject, cur: KubeObject): FieldError[] {
    return deepEqual(o.spec, cur.spec) ? [] : [{ type: 'FieldValueInvalid', field: 'spec', value: o.spec, detail: 'field is immutable' }];
  },
};
