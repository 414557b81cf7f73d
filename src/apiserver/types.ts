/**
 * Object schemas of the served kinds, fields in Go struct order (that is how kube-apiserver writes
 * them). Core types follow k8s.io/api/core/v1; OpenShift types follow openshift/api, pruned to the
 * fields this control plane uses plus the usual ones. Fields marked `any` keep whatever is sent
 * (x-kubernetes-preserve-unknown-fields in the CRDs).
 */
import { any, arr, bool, int, map, obj, str, type Schema } from './schema.js';

const ownerReference = obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool });

export const objectMeta = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  labels: map(),
  annotations: map(),
  ownerReferences: arr(ownerReference),
  finalizers: arr(str),
  managedFields: arr(any),
});

function kind(rest: Record<string, Schema>): Schema {
  return obj({ kind: str, apiVersion: str, metadata: objectMeta, ...rest });
}

export const secretSchema = kind({ immutable: bool, data: map(), stringData: map(), type: str });
export const configMapSchema = kind({ immutable: bool, data: map(), binaryData: map() });

const namespaceCondition = obj({ type: str, status: str, lastTransitionTime: str, reason: str, message: str });
export const namespaceSchema = kind({ spec: obj({ finalizers: arr(str) }), status: obj({ phase: str, conditions: arr(namespaceCondition) }) });

const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });
export const eventSchema = kind({
  involvedObject: objectReference,
  reason: str,
  message: str,
  source: obj({ component: str, host: str }),
  firstTimestamp: str,
  lastTimestamp: str,
  count: int,
  type: str,
  eventTime: str,
  series: obj({ count: int, lastObservedTime: str }),
  action: str,
  related: objectReference,
  reportingComponent: str,
  reportingInstance: str,
});

const routeTarget = obj({ kind: str, name: str, weight: int });
export const routeSchema = kind({
  spec: obj({
    host: str,
    subdomain: str,
    path: str,
    to: routeTarget,
    alternateBackends: arr(routeTarget),
    port: obj({ targetPort: any }),
    tls: obj({
      termination: str,
      certificate: str,
      key: str,
      caCertificate: str,
      destinationCACertificate: str,
      insecureEdgeTerminationPolicy: str,
      externalCertificate: obj({ name: str }),
    }),
    wildcardPolicy: str,
    httpHeaders: any,
  }),
  status: obj({ ingress: arr(any) }),
});

export const oauthAccessTokenSchema = kind({
  clientName: str,
  expiresIn: int,
  scopes: arr(str),
  redirectURI: str,
  userName: str,
  userUID: str,
  authorizeToken: str,
  refreshToken: str,
  inactivityTimeoutSeconds: int,
});

export const oauthAuthorizeTokenSchema = kind({
  clientName: str,
  expiresIn: int,
  scopes: arr(str),
  redirectURI: str,
  state: str,
  userName: str,
  userUID: str,
  codeChallenge: str,
  codeChallengeMethod: str,
});

const configMapNameReference = obj({ name: str });
export const apiServerConfigSchema = kind({
  spec: obj({
    servingCerts: obj({ namedCertificates: arr(obj({ names: arr(str), servingCertificate: obj({ name: str }) })) }),
    clientCA: configMapNameReference,
    additionalCORSAllowedOrigins: arr(str),
    encryption: obj({ type: str }),
    tlsSecurityProfile: any,
    audit: any,
  }),
  status: obj({}),
});

export const proxySchema = kind({
  spec: obj({ httpProxy: str, httpsProxy: str, noProxy: str, readinessEndpoints: arr(str), trustedCA: configMapNameReference }),
  status: obj({ httpProxy: str, httpsProxy: str, noProxy: str }),
});

/** openshift/api operator/v1 OperatorCondition. */
export const operatorCondition = obj({ type: str, status: str, lastTransitionTime: str, reason: str, message: str });

const nodeStatus = obj({
  nodeName: str,
  currentRevision: int,
  targetRevision: int,
  lastFailedRevision: int,
  lastFailedTime: str,
  lastFailedReason: str,
  lastFailedCount: int,
  lastFallbackCount: int,
  lastFailedRevisionErrors: arr(str),
});

function operatorSpec(extra: Record<string, Schema> = {}): Schema {
  return obj({
    managementState: str,
    logLevel: str,
    operatorLogLevel: str,
    unsupportedConfigOverrides: any,
    observedConfig: any,
    forceRedeploymentReason: str,
    failedRevisionLimit: int,
    succeededRevisionLimit: int,
    ...extra,
  });
}

/** StaticPodOperatorStatus (OperatorStatus plus revisions and per-node status). */
function operatorStatus(extra: Record<string, Schema> = {}): Schema {
  return obj({
    observedGeneration: int,
    conditions: arr(operatorCondition),
    version: str,
    readyReplicas: int,
    latestAvailableRevisionReason: str,
    generations: arr(any),
    latestAvailableRevision: int,
    nodeStatuses: arr(nodeStatus),
    ...extra,
  });
}

export const kubeAPIServerSchema = kind({ spec: operatorSpec(), status: operatorStatus({ serviceAccountIssuers: arr(any) }) });
export const openShiftAPIServerSchema = kind({ spec: operatorSpec(), status: operatorStatus() });
export const authenticationSchema = kind({ spec: operatorSpec(), status: operatorStatus({ oauthAPIServer: obj({ latestAvailableRevision: int }) }) });
export const etcdSchema = kind({
  spec: operatorSpec({ controlPlaneHardwareSpeed: str, backendQuotaGiB: int }),
  status: operatorStatus({ controlPlaneHardwareSpeed: str }),
});

/** The options body of DELETE (metav1.DeleteOptions). */
export const deleteOptionsSchema = obj({
  kind: str,
  apiVersion: str,
  gracePeriodSeconds: int,
  preconditions: obj({ uid: str, resourceVersion: str }),
  orphanDependents: bool,
  propagationPolicy: str,
  dryRun: arr(str),
});

/**
 * Mirror pods: the host agents report the static pods they run, as kubelets do, so the
 * operator can see which revision each node runs and whether it is ready. Spec and status
 * keep what the agent sends.
 */
export const podSchema = kind({ spec: any, status: any });

/** Nodes: each host agent registers its own and keeps its status; spec and status keep what is sent. */
export const nodeSchema = kind({ spec: any, status: any });

/** coordination.k8s.io/v1 Lease: the agents' heartbeats in kube-node-lease. */
export const leaseSchema = kind({
  spec: obj({ holderIdentity: str, leaseDurationSeconds: int, acquireTime: str, renewTime: str, leaseTransitions: int }),
});

/** rbac.authorization.k8s.io/v1. */
const policyRule = obj({ verbs: arr(str), apiGroups: arr(str), resources: arr(str), resourceNames: arr(str), nonResourceURLs: arr(str) });
const rbacSubject = obj({ kind: str, apiGroup: str, name: str, namespace: str });
const roleRef = obj({ apiGroup: str, kind: str, name: str });
export const roleSchema = kind({ rules: arr(policyRule) });
export const clusterRoleSchema = kind({ rules: arr(policyRule), aggregationRule: any });
export const roleBindingSchema = kind({ subjects: arr(rbacSubject), roleRef });

/** authorization.k8s.io/v1 SelfSubjectAccessReview and SelfSubjectRulesReview: asked, answered, never stored. */
const resourceAttributes = obj({ namespace: str, verb: str, group: str, version: str, resource: str, subresource: str, name: str, fieldSelector: any, labelSelector: any });
export const selfSubjectAccessReviewSchema = kind({
  spec: obj({ resourceAttributes, nonResourceAttributes: obj({ path: str, verb: str }) }),
  status: any,
});
export const selfSubjectRulesReviewSchema = kind({ spec: obj({ namespace: str }), status: any });

/**
 * core/v1 PersistentVolume and PersistentVolumeClaim, storage.k8s.io/v1 VolumeAttachment: where
 * backups go and what the restore preview shows. Volume sources other than hostPath and local are
 * kept as sent.
 */
const nodeSelectorTerm = obj({ matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) })), matchFields: arr(obj({ key: str, operator: str, values: arr(str) })) });
const volumeNodeAffinity = obj({ required: obj({ nodeSelectorTerms: arr(nodeSelectorTerm) }) });
const labelSelector = obj({ matchLabels: map(), matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) })) });
export const persistentVolumeSchema = kind({
  spec: obj({
    capacity: map(),
    hostPath: obj({ path: str, type: str }),
    local: obj({ path: str, fsType: str }),
    nfs: any,
    csi: any,
    iscsi: any,
    fc: any,
    accessModes: arr(str),
    claimRef: objectReference,
    persistentVolumeReclaimPolicy: str,
    storageClassName: str,
    mountOptions: arr(str),
    volumeMode: str,
    nodeAffinity: volumeNodeAffinity,
    volumeAttributesClassName: str,
  }),
  status: obj({ phase: str, message: str, reason: str, lastPhaseTransitionTime: str }),
});
export const persistentVolumeClaimSchema = kind({
  spec: obj({
    accessModes: arr(str),
    selector: labelSelector,
    resources: obj({ limits: map(), requests: map() }),
    volumeName: str,
    storageClassName: str,
    volumeMode: str,
    dataSource: any,
    dataSourceRef: any,
    volumeAttributesClassName: str,
  }),
  status: obj({
    phase: str,
    accessModes: arr(str),
    capacity: map(),
    conditions: arr(obj({ type: str, status: str, lastProbeTime: str, lastTransitionTime: str, reason: str, message: str })),
    allocatedResources: map(),
    allocatedResourceStatuses: map(),
    currentVolumeAttributesClassName: str,
    modifyVolumeStatus: any,
  }),
});
const volumeError = obj({ time: str, message: str, errorCode: int });
export const volumeAttachmentSchema = kind({
  spec: obj({ attacher: str, source: obj({ persistentVolumeName: str, inlineVolumeSpec: any }), nodeName: str }),
  status: obj({ attached: bool, attachmentMetadata: map(), attachError: volumeError, detachError: volumeError }),
});

/**
 * config.openshift.io/v1alpha1 Backup (spec.etcd as OpenShift 4.14+ has it, plus `drill`, which
 * switches the restore drill after each scheduled backup) and operator.openshift.io/v1alpha1
 * EtcdBackup (one backup run; scheduled runs are EtcdBackups too).
 */
const backupCondition = obj({ type: str, status: str, observedGeneration: int, lastTransitionTime: str, reason: str, message: str });
export const backupConfigSchema = kind({
  spec: obj({
    etcd: obj({
      schedule: str,
      timeZone: str,
      retentionPolicy: obj({ retentionType: str, retentionNumber: obj({ maxNumberOfBackups: int }), retentionSize: obj({ maxSizeOfBackupsGb: int }) }),
      pvcName: str,
      drill: str,
    }),
  }),
  status: obj({ conditions: arr(backupCondition), lastScheduleTime: str, lastSuccessfulBackup: any, lastVerifiedBackup: any }),
});
export const etcdBackupSchema = kind({
  spec: obj({ pvcName: str }),
  status: obj({ conditions: arr(backupCondition), backupJob: obj({ namespace: str, name: str }), backup: any, drill: any }),
});
