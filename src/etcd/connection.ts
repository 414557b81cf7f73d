import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from './client.js';
import type { Connection } from './endpoints.js';

export type { Connection } from './endpoints.js';

/**
 * A client for exactly these endpoints, without the library's retries and circuit breakers:
 * an operator wants a member's own answer, or its error, within the command timeout.
 */
export function etcdClient(conn: Connection, endpoints = conn.endpoints): Etcd3 {
  return createEtcdClient({ endpoints, tls: conn.tls, dialTimeoutMs: conn.dialTimeoutMs, callTimeoutMs: conn.commandTimeoutMs, faults: 'fail-fast' });
}

/** Runs `fn` with a single-endpoint client and always closes it. */
export async function withClient<T>(conn: Connection, endpoints: string[], fn: (c: Etcd3) => Promise<T>): Promise<T> {
  const client = etcdClient(conn, endpoints);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/**
 * For cluster-wide calls (alarms, compaction, member list): tries each endpoint in turn, so one
 * member down does not fail a request that any member can answer.
 */
export async function withAnyEndpoint<T>(conn: Connection, fn: (c: Etcd3) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const ep of conn.endpoints) {
    try {
      return await withClient(conn, [ep], fn);
    } catch (err) {
      last = err;
      // An answer from etcd itself (not a transport failure) is the cluster's answer.
      if (!isTransportError(err)) throw err;
    }
  }
  throw last;
}

function isTransportError(err: unknown): boolean {
  const name = (err as Error)?.constructor?.name ?? '';
  return /Unavailable|DeadlineExceeded|ClientRuntime|Cancelled/.test(name) || /ECONNREFUSED|No connection established|deadline/i.test((err as Error)?.message ?? '');
}

/** gRPC errors in words an etcd admin knows from etcdctl, always on one line. */
export function describeEtcdError(err: unknown, conn: Connection): string {
  const msg = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  if (/deadline/i.test(msg) || err?.constructor?.name === 'GRPCDeadlineExceededError') {
    return `context deadline exceeded (no answer within --command-timeout ${conn.commandTimeoutMs / 1000}s)`;
  }
  if (/ECONNREFUSED/.test(msg)) return 'connection refused';
  if (/alert bad certificate|certificate required|alert unknown ca/i.test(msg)) {
    return 'TLS handshake failed: the member rejected our client certificate: check --cert/--key';
  }
  if (/unable to verify|self[- ]signed|certificate verify failed|UNABLE_TO_GET_ISSUER|DEPTH_ZERO/i.test(msg)) {
    return "TLS handshake failed: cannot verify the member's certificate: check --cacert";
  }
  if (/wrong version number|packet length too long|http_request/i.test(msg)) {
    return 'TLS handshake failed: the member does not speak TLS on this port (use http://, or check the port)';
  }
  const lastError = /Last error: (.*?)(?: \(\d{4}-\d\d-\d\dT.*)?$/.exec(msg);
  return (lastError ? lastError[1] : msg).replace(/^\d+ [A-Z_]+: /, '');
}
