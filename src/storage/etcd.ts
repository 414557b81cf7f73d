/** Builds the etcd3 client the API server uses: every endpoint, optional TLS, bounded calls. */
import { readFileSync } from 'node:fs';
import { Etcd3, isRecoverableError } from 'etcd3';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry, ConstantBackoff } from 'cockatiel';

export interface EtcdConnection {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export function createEtcdClient(conn: EtcdConnection, timeoutMs: number): Etcd3 {
  const tls = conn.endpoints.some((e) => e.startsWith('https://'));
  const credentials =
    tls && conn.caFile
      ? {
          rootCertificate: readFileSync(conn.caFile),
          certChain: conn.certFile ? readFileSync(conn.certFile) : undefined,
          privateKey: conn.keyFile ? readFileSync(conn.keyFile) : undefined,
        }
      : undefined;
  return new Etcd3({
    hosts: conn.endpoints,
    credentials,
    dialTimeout: timeoutMs,
    // Streams (watches) live as long as their HTTP request; unary calls get a deadline each.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: {
      // One retry on another member, then fail: the API server answers 503/504 rather than hang.
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 1, backoff: new ConstantBackoff(50) }),
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 2_000, breaker: new ConsecutiveBreaker(3) }),
    },
    grpcOptions: {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // grpc-js refuses answers over 4 MiB by default, so a list of a few large Secrets failed. etcd's
      // own Go client (and so kube-apiserver) accepts up to 2 GiB; batched reads (batch.ts) need it too.
      'grpc.max_receive_message_length': -1,
    },
  });
}
