/**
 * The storage value transformer, after Kubernetes' k8s.io/apiserver/pkg/storage/value:
 * one value in, one value out. Only values are transformed; etcd keys stay plain.
 */
export interface TransformContext {
  /** The full etcd key of the value, e.g. /kubernetes.io/secrets/ns/name. aesgcm authenticates it. */
  readonly key: string;
}

export interface ReadResult {
  readonly data: Buffer;
  /**
   * True when the value was read by anything other than the current write transformer and key:
   * the next update (even a no-op one) must rewrite it. Migration relies on this.
   */
  readonly stale: boolean;
}

export interface Transformer {
  /**
   * Throws when the value cannot be read. Transformers from buildEncryption() throw a
   * StorageTransformError naming the etcd key and kube-apiserver's reason; fail that object alone.
   */
  fromStorage(stored: Buffer, ctx: TransformContext): ReadResult;
  toStorage(plain: Buffer, ctx: TransformContext): Buffer;
}

/** Picks the transformer for a resource, by group-resource as kube-apiserver names it: "secrets", "routes.route.openshift.io". */
export type TransformerForResource = (groupResource: string) => Transformer;
