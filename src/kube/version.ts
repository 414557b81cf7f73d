/** The Kubernetes version this control plane speaks: the API server's /version, the nodes' kubelet version. */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' };
