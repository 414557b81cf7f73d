import { OPERATOR, type ResourceRef } from '../../kube/client.js';

/** A static pod the operator rolls out by revisions (library-go's static pod operator). */
export interface Operand {
  name: string;
  operator: ResourceRef;
  namespace: string;
  /** Manifest and resource-dir name: `<podPrefix>.yaml`, `<podPrefix>-<rev>/`. */
  podPrefix: string;
  /** The mirror pod the node's agent reports: `<mirrorPrefix>-<node>`. */
  mirrorPrefix: string;
  /** Objects in `namespace` copied to `<name>-<rev>` for each revision. */
  revisioned: Array<{ resource: 'configmaps' | 'secrets'; name: string }>;
  /** etcd members restart one at a time and only while the cluster is healthy. */
  oneAtATimeWhileHealthy: boolean;
}

export const KUBE_APISERVER: Operand = {
  name: 'kube-apiserver',
  operator: OPERATOR('kubeapiservers'),
  namespace: 'openshift-kube-apiserver',
  podPrefix: 'kube-apiserver-pod',
  mirrorPrefix: 'kube-apiserver',
  revisioned: [
    { resource: 'configmaps', name: 'config' },
    { resource: 'secrets', name: 'encryption-config' },
  ],
  oneAtATimeWhileHealthy: false,
};

export const ETCD: Operand = {
  name: 'etcd',
  operator: OPERATOR('etcds'),
  namespace: 'openshift-etcd',
  podPrefix: 'etcd-pod',
  mirrorPrefix: 'etcd',
  revisioned: [{ resource: 'configmaps', name: 'config' }],
  oneAtATimeWhileHealthy: true,
};

export const OPERANDS = [KUBE_APISERVER, ETCD];

/** The key in the encryption-config secret, as OpenShift names it. */
export const ENCRYPTION_CONFIG_KEY = 'encryption-config';
