/**
 * Storage failures, after k8s.io/apiserver/pkg/storage errors. The API layer turns each code
 * into its Status (404, 409, 500, 507, 503/504, 410). Messages never carry key material.
 */
export type StorageErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict' // a compare-and-swap lost: the object changed under us
  | 'PreconditionFailed' // uid / resourceVersion preconditions did not hold
  | 'Transform' // the value could not be decrypted/decoded
  | 'NoSpace' // etcd's NOSPACE alarm: writes refused
  | 'Unavailable' // etcd unreachable
  | 'Timeout' // etcd did not answer within the deadline
  | 'Compacted' // a revision older than the compaction
  | 'TooLarge' // the request is over etcd's --max-request-bytes (or gRPC's message size)
  | 'Internal';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

/** Maps an etcd3/grpc failure to a StorageError, keeping its message (etcd's messages hold no secrets). */
export function fromEtcdError(err: unknown, key?: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as Error & { code?: number; name?: string };
  const msg = String(e?.message ?? err);
  if (/database space exceeded/.test(msg)) return new StorageError('NoSpace', msg, key);
  if (/required revision has been compacted/.test(msg)) return new StorageError('Compacted', msg, key);
  if (/request is too large|RESOURCE_EXHAUSTED|larger than max/i.test(msg) || e?.code === 8) return new StorageError('TooLarge', `etcdserver: request is too large: ${msg}`, key);
  if (/Deadline ?Exceeded|DEADLINE_EXCEEDED|deadline/i.test(msg) || e?.code === 4) return new StorageError('Timeout', `etcd did not answer in time: ${msg}`, key);
  if (/UNAVAILABLE|Unavailable|ECONNREFUSED|No connection|BrokenCircuit|circuit|closed|connect/i.test(msg + (e?.name ?? '')) || e?.code === 14) {
    return new StorageError('Unavailable', `etcd is unavailable: ${msg}`, key);
  }
  return new StorageError('Internal', msg, key);
}
