/**
 * Server-side printing: meta.k8s.io/v1 Table with the columns kube-apiserver's printers use, so
 * `kubectl get` looks as users expect. Like kube-apiserver, the server always generates the wide
 * set; kubectl hides priority > 0 columns unless `-o wide`.
 */
import type { KubeObject } from '../storage/store.js';
import { humanDuration } from '../util/time.js';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  format: string;
  description: string;
  priority: number;
}

export interface TableDef {
  columns: ColumnDefinition[];
  cells(o: KubeObject, now: number): unknown[];
}

const NAME_COL: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
const AGE_COL: ColumnDefinition = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.',
  priority: 0,
};
const col = (name: string, type: ColumnDefinition['type'], description: string, priority = 0): ColumnDefinition => ({ name, type, format: '', description, priority });

export function age(ts: unknown, now: number): string {
  if (typeof ts !== 'string' || !ts) return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

const ACCESS_MODE_SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (m: unknown) => (Array.isArray(m) ? m.map((x) => ACCESS_MODE_SHORT[x] ?? x).join(',') : '');

const count = (o: unknown) => (o && typeof o === 'object' ? Object.keys(o).length : 0);

const defaultTable: TableDef = {
  columns: [NAME_COL, AGE_COL],
  cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
};

function eventSource(o: KubeObject): string {
  const comp = o.source?.component || o.reportingComponent || '';
  const host = o.source?.host || o.reportingInstance || '';
  return host ? `${comp}, ${host}` : comp;
}

const TABLES: Record<string, TableDef> = {
  secrets: {
    columns: [NAME_COL, col('Type', 'string', 'The type of the secret'), col('Data', 'string', 'The number of entries in the secret'), AGE_COL],
    cells: (o, now) => [o.metadata.name, o.type ?? 'Opaque', count(o.data), age(o.metadata.creationTimestamp, now)],
  },
  configmaps: {
    columns: [NAME_COL, col('Data', 'string', 'The number of entries in the configmap'), AGE_COL],
    cells: (o, now) => [o.metadata.name, count(o.data) + count(o.binaryData), age(o.metadata.creationTimestamp, now)],
  },
  pods: {
    columns: [
      NAME_COL,
      col('Ready', 'string', 'Ready containers of all containers'),
      col('Status', 'string', 'The phase of the pod'),
      col('Restarts', 'string', 'Container restarts'),
      AGE_COL,
      col('Node', 'string', 'The node the pod runs on', 1),
      col('Revision', 'string', 'The static pod revision', 1),
    ],
    cells: (o, now) => {
      const cs: Array<{ ready?: boolean; restartCount?: number }> = o.status?.containerStatuses ?? [];
      const ready = cs.filter((c) => c.ready).length;
      const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      return [o.metadata.name, `${ready}/${cs.length}`, o.status?.phase ?? '', restarts, age(o.status?.startTime ?? o.metadata.creationTimestamp, now), o.spec?.nodeName ?? '', o.metadata.labels?.revision ?? ''];
    },
  },
  nodes: {
    // kube's node printer: STATUS from the Ready condition, ROLES from node-role.kubernetes.io/* labels.
    columns: [
      NAME_COL,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      AGE_COL,
      col('Version', 'string', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'string', "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
      col('External-IP', 'string', "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
      col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'string', 'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    cells: (o, now) => {
      const ready = (o.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
      let status = ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
      if (o.spec?.unschedulable) status += ',SchedulingDisabled';
      const roles = Object.keys(o.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length))
        .filter(Boolean)
        .sort();
      const addr = (type: string) => (o.status?.addresses ?? []).find((a: { type?: string }) => a.type === type)?.address ?? '<none>';
      const info = o.status?.nodeInfo ?? {};
      return [o.metadata.name, status, roles.join(',') || '<none>', age(o.metadata.creationTimestamp, now), info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
    },
  },
  'leases.coordination.k8s.io': {
    columns: [NAME_COL, col('Holder', 'string', 'The holder of the lease'), AGE_COL],
    cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o.metadata.creationTimestamp, now)],
  },
  namespaces: {
    columns: [NAME_COL, col('Status', 'string', 'The status of the namespace'), AGE_COL],
    cells: (o, now) => [o.metadata.name, o.status?.phase ?? '', age(o.metadata.creationTimestamp, now)],
  },
  events: {
    columns: [
      col('Last Seen', 'string', 'Time since the last occurrence of the event'),
      col('Type', 'string', 'Type of this event (Normal, Warning)'),
      col('Reason', 'string', 'Why the action was taken'),
      col('Object', 'string', 'The object this event is about'),
      col('Subobject', 'string', 'The field of the object this event is about', 1),
      col('Source', 'string', 'The component reporting this event', 1),
      col('Message', 'string', 'A human-readable description of the status of this operation'),
      col('First Seen', 'string', 'Time since the first occurrence of the event', 1),
      col('Count', 'string', 'The number of times this event has occurred', 1),
      { ...NAME_COL, priority: 1 },
    ],
    cells: (o, now) => {
      const first = age(o.firstTimestamp || o.eventTime, now);
      let last = o.lastTimestamp ? age(o.lastTimestamp, now) : first;
      let n = o.count ?? 0;
      if (o.series) {
        last = age(o.series.lastObservedTime, now);
        n = o.series.count ?? 0;
      } else if (n === 0) n = 1;
      const io = o.involvedObject ?? {};
      const target = io.name ? `${String(io.kind ?? '').toLowerCase()}/${io.name}` : String(io.kind ?? '').toLowerCase();
      return [last, o.type ?? '', o.reason ?? '', target, io.fieldPath ?? '', eventSource(o), String(o.message ?? '').trim(), first, n, o.metadata.name];
    },
  },
  persistentvolumes: {
    columns: [
      NAME_COL,
      col('Capacity', 'string', 'The capacity of the volume'),
      col('Access Modes', 'string', 'The ways the volume can be mounted'),
      col('Reclaim Policy', 'string', 'What happens to the volume when its claim is released'),
      col('Status', 'string', 'The phase of the volume'),
      col('Claim', 'string', 'The claim bound to the volume'),
      col('StorageClass', 'string', 'The storage class of the volume'),
      col('VolumeAttributesClass', 'string', 'The volume attributes class of the volume'),
      col('Reason', 'string', 'Why the volume is in this phase'),
      AGE_COL,
      col('VolumeMode', 'string', 'Filesystem or Block', 1),
    ],
    cells: (o, now) => {
      const ref = o.spec?.claimRef;
      return [
        o.metadata.name,
        o.spec?.capacity?.storage ?? '',
        accessModes(o.spec?.accessModes),
        o.spec?.persistentVolumeReclaimPolicy ?? '',
        o.status?.phase ?? '',
        ref?.name ? `${ref.namespace ?? ''}/${ref.name}` : '',
        o.spec?.storageClassName ?? '',
        o.spec?.volumeAttributesClassName || '<unset>',
        o.status?.reason ?? '',
        age(o.metadata.creationTimestamp, now),
        o.spec?.volumeMode ?? '',
      ];
    },
  },
  persistentvolumeclaims: {
    columns: [
      NAME_COL,
      col('Status', 'string', 'The phase of the claim'),
      col('Volume', 'string', 'The volume bound to the claim'),
      col('Capacity', 'string', 'The capacity of the bound volume'),
      col('Access Modes', 'string', 'The ways the volume can be mounted'),
      col('StorageClass', 'string', 'The storage class of the claim'),
      col('VolumeAttributesClass', 'string', 'The volume attributes class of the claim'),
      AGE_COL,
      col('VolumeMode', 'string', 'Filesystem or Block', 1),
    ],
    cells: (o, now) => {
      const bound = o.status?.phase === 'Bound';
      return [
        o.metadata.name,
        o.status?.phase ?? '',
        o.spec?.volumeName ?? '',
        bound ? (o.status?.capacity?.storage ?? '') : '',
        bound ? accessModes(o.status?.accessModes) : '',
        o.spec?.storageClassName ?? '',
        o.spec?.volumeAttributesClassName || '<unset>',
        age(o.metadata.creationTimestamp, now),
        o.spec?.volumeMode ?? '',
      ];
    },
  },
  'volumeattachments.storage.k8s.io': {
    columns: [
      NAME_COL,
      col('Attacher', 'string', 'The driver that attaches the volume'),
      col('PV', 'string', 'The persistent volume attached'),
      col('Node', 'string', 'The node the volume is attached to'),
      col('Attached', 'boolean', 'Whether the volume is attached'),
      AGE_COL,
    ],
    cells: (o, now) => [o.metadata.name, o.spec?.attacher ?? '', o.spec?.source?.persistentVolumeName ?? '', o.spec?.nodeName ?? '', o.status?.attached === true, age(o.metadata.creationTimestamp, now)],
  },
  'routes.route.openshift.io': {
    columns: [
      NAME_COL,
      col('Host/Port', 'string', 'Host and port of the route'),
      col('Path', 'string', 'Path of the route'),
      col('Services', 'string', 'The services the route sends traffic to'),
      col('Port', 'string', 'The target port on the services'),
      col('Termination', 'string', 'TLS termination'),
      col('Wildcard', 'string', 'Wildcard policy'),
    ],
    cells: (o) => {
      const spec = o.spec ?? {};
      const backends = [spec.to, ...(spec.alternateBackends ?? [])].filter(Boolean);
      const total = backends.reduce((s: number, b: { weight?: number }) => s + (b.weight ?? 100), 0);
      const services =
        backends.length > 1
          ? backends.map((b: { name: string; weight?: number }) => `${b.name}(${total ? Math.round(((b.weight ?? 100) * 100) / total) : 0}%)`).join(',')
          : (backends[0]?.name ?? '');
      const tls = spec.tls ? `${spec.tls.termination ?? ''}${spec.tls.insecureEdgeTerminationPolicy ? `/${spec.tls.insecureEdgeTerminationPolicy}` : ''}` : '';
      const port = spec.port?.targetPort !== undefined ? String(spec.port.targetPort) : '<all>';
      return [o.metadata.name, spec.host ?? '', spec.path ?? '', services, port, tls, spec.wildcardPolicy || 'None'];
    },
  },
};

export function tableFor(resource: string, group: string): TableDef {
  return TABLES[group ? `${resource}.${group}` : resource] ?? defaultTable;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function tableRow(def: TableDef, o: KubeObject, include: IncludeObject, now: number): Record<string, unknown> {
  const row: Record<string, unknown> = { cells: def.cells(o, now) };
  if (include === 'Object') row.object = o;
  else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return row;
}

export function toTable(def: TableDef, objs: KubeObject[], listMeta: Record<string, unknown>, include: IncludeObject, noHeaders = false): Record<string, unknown> {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: noHeaders ? null : def.columns,
    rows: objs.map((o) => tableRow(def, o, include, now)),
  };
}
