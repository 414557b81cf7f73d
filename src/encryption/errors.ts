/**
 * Errors of the storage transformers. Their messages are kube-apiserver's own texts, so what an
 * operator reads here can be searched for in Kubernetes issues. They never carry key material.
 */

/** A transformer could not read or write one value. `message` is the bare reason, as Go's err.Error(). */
export class TransformError extends Error {
  /**
   * The flattened reasons when several matching prefixes failed (Go's utilerrors aggregate);
   * absent for a single reason.
   */
  readonly reasons: readonly string[] | undefined;

  constructor(message: string, reasons?: readonly string[]) {
    super(message);
    this.name = 'TransformError';
    this.reasons = reasons;
  }
}

/**
 * Several prefixes matched and all failed: one error as utilerrors.Reduce(NewAggregate(errs))
 * prints it. Messages are flattened and de-duplicated; a single distinct message stands alone,
 * several read `[a, b]`. Returns the only error itself when there is just one.
 */
export function aggregate(errs: readonly Error[]): Error {
  if (errs.length === 1) return errs[0]!;
  const seen: string[] = [];
  for (const e of errs) {
    const parts = e instanceof TransformError && e.reasons ? e.reasons : [e.message];
    for (const p of parts) if (!seen.includes(p)) seen.push(p);
  }
  if (seen.length === 1) return new TransformError(seen[0]!);
  return new TransformError(`[${seen.join(', ')}]`, seen);
}

/**
 * A value under one etcd key could not be transformed. The message names the key and the reason
 * as kube-apiserver's storage layer does; callers fail that one object, not the whole list.
 */
export class StorageTransformError extends Error {
  constructor(
    readonly etcdKey: string,
    /** The transformer's reason, e.g. "no matching prefix found". */
    readonly reason: string,
    readonly direction: 'read' | 'write',
  ) {
    super(`unable to ${direction === 'read' ? 'decrypt' : 'encrypt'} key ${JSON.stringify(etcdKey)}: ${reason}`);
    this.name = 'StorageTransformError';
  }
}
