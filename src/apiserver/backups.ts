/**
 * Admission of the backup APIs, pure: Backup's spec.etcd as OpenShift validates it (a 5-field
 * cron or a @macro, an IANA time zone, the retention policy with its defaults and minimums) and
 * EtcdBackup's immutable spec.pvcName.
 */
import { CronExpressionParser } from 'cron-parser';
import type { KubeObject } from '../storage/store.js';
import type { FieldError } from './status.js';
import type { KindRules } from './kind-rules.js';

export const RETENTION_TYPES = ['RetentionNumber', 'RetentionSize'];
export const DEFAULT_MAX_BACKUPS = 15;
export const DEFAULT_MAX_SIZE_GB = 10;
const DRILL = ['Enabled', 'Disabled'];
const MACROS = ['@annually', '@yearly', '@monthly', '@weekly', '@daily', '@hourly'];
const DNS_LABEL_OR_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a schedule is not a standard cron line, or undefined when it is one. */
export function cronError(schedule: string): string | undefined {
  const s = schedule.trim();
  if (MACROS.includes(s)) return undefined;
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return `a schedule has 5 fields (minute hour day-of-month month day-of-week) or is one of ${MACROS.join(', ')}; this one has ${fields.length}`;
  try {
    CronExpressionParser.parse(s);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether the zone is one the runtime's IANA database knows ("Europe/Paris", "UTC"). */
export function timeZoneError(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return 'not an IANA time zone (like "UTC" or "Europe/Paris")';
  }
}

export const backupConfigRules: KindRules = {
  defaults(o: KubeObject) {
    defaultRetention(o);
  },
  validate(o: KubeObject): FieldError[] {
    defaultRetention(o); // updates get the defaults too, as a CRD's structural defaulting does
    const e = o.spec?.etcd ?? {};
    const errs: FieldError[] = [];
    if (e.schedule) {
      const why = cronError(e.schedule);
      if (why) errs.push({ type: 'FieldValueInvalid', field: 'spec.etcd.schedule', value: e.schedule, detail: why });
    }
    if (e.timeZone) {
      const why = timeZoneError(e.timeZone);
      if (why) errs.push({ type: 'FieldValueInvalid', field: 'spec.etcd.timeZone', value: e.timeZone, detail: why });
    }
    const rp = e.retentionPolicy ?? {};
    if (!RETENTION_TYPES.includes(rp.retentionType)) errs.push({ type: 'FieldValueNotSupported', field: 'spec.etcd.retentionPolicy.retentionType', value: rp.retentionType, supported: RETENTION_TYPES });
    const n = rp.retentionNumber?.maxNumberOfBackups;
    if (n !== undefined && n < 1) errs.push({ type: 'FieldValueInvalid', field: 'spec.etcd.retentionPolicy.retentionNumber.maxNumberOfBackups', value: n, detail: 'should be greater than or equal to 1' });
    const gb = rp.retentionSize?.maxSizeOfBackupsGb;
    if (gb !== undefined && gb < 1) errs.push({ type: 'FieldValueInvalid', field: 'spec.etcd.retentionPolicy.retentionSize.maxSizeOfBackupsGb', value: gb, detail: 'should be greater than or equal to 1' });
    if (rp.retentionType === 'RetentionNumber' && rp.retentionSize) errs.push({ type: 'FieldValueForbidden', field: 'spec.etcd.retentionPolicy', detail: 'retentionSize is forbidden when retentionType is RetentionNumber' });
    if (rp.retentionType === 'RetentionSize' && rp.retentionNumber) errs.push({ type: 'FieldValueForbidden', field: 'spec.etcd.retentionPolicy', detail: 'retentionNumber is forbidden when retentionType is RetentionSize' });
    if (e.pvcName && !DNS_LABEL_OR_SUBDOMAIN.test(e.pvcName)) errs.push({ type: 'FieldValueInvalid', field: 'spec.etcd.pvcName', value: e.pvcName, detail: 'must be the name of a PersistentVolumeClaim in openshift-etcd' });
    if (e.drill !== undefined && !DRILL.includes(e.drill)) errs.push({ type: 'FieldValueNotSupported', field: 'spec.etcd.drill', value: e.drill, supported: DRILL });
    return errs;
  },
};

function defaultRetention(o: KubeObject): void {
  o.spec ??= {};
  o.spec.etcd ??= {};
  const rp = (o.spec.etcd.retentionPolicy ??= {});
  rp.retentionType ||= 'RetentionNumber';
  if (rp.retentionType === 'RetentionNumber') {
    rp.retentionNumber ??= {};
    rp.retentionNumber.maxNumberOfBackups ??= DEFAULT_MAX_BACKUPS;
  }
  if (rp.retentionType === 'RetentionSize') {
    rp.retentionSize ??= {};
    rp.retentionSize.maxSizeOfBackupsGb ??= DEFAULT_MAX_SIZE_GB;
  }
  o.spec.etcd.drill ||= 'Enabled';
}

export const etcdBackupRules: KindRules = {
  validate(o: KubeObject): FieldError[] {
    const p = o.spec?.pvcName;
    return p && !DNS_LABEL_OR_SUBDOMAIN.test(p) ? [{ type: 'FieldValueInvalid', field: 'spec.pvcName', value: p, detail: 'must be the name of a PersistentVolumeClaim in openshift-etcd' }] : [];
  },
  validateUpdate(o: KubeObject, cur: KubeObject): FieldError[] {
    return (o.spec?.pvcName ?? '') === (cur.spec?.pvcName ?? '') ? [] : [{ type: 'FieldValueInvalid', field: 'spec.pvcName', value: o.spec?.pvcName ?? '', detail: 'pvcName is immutable once set' }];
  },
};
