/**
 * The one place etcd3 clients are made. Every client gets the same transport: TLS when given,
 * a dial timeout, a deadline on each unary call (streams such as watches and lease keep-alives
 * live as long as they are used), keep-alive pings, and no cap on the size of an answer. What
 * differs is only what to do when a member fails, which is the caller's to choose.
 */
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, ConstantBackoff, circuitBreaker, handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';

export interface EtcdClientOptions {
  endpoints: string[];
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  dialTimeoutMs: number;
  /** Deadline for each unary call; none when unset (callers then pass their own). */
  callTimeoutMs?: number;
  /**
   * - `fail-fast`: exactly the endpoints asked, no retry: an admin wants a member's own answer or
   *   its error (the CLI);
   * - `retry-once`: one retry on another member, then fail, with a circuit breaker per member:
   *   a server answers 503/504 rather than hang (the API server);
   * - `patient`: etcd3's own policy, three retries: long-running controllers (the operator).
   */
  faults: 'fail-fast' | 'retry-once' | 'patient';
}

export function createEtcdClient(o: EtcdClientOptions): Etcd3 {
  const opts: IOptions = {
    hosts: o.endpoints,
    dialTimeout: o.dialTimeoutMs,
    grpcOptions: {
      // Not shorter: etcd's server counts a ping on a connection without an open stream as a strike
      // (grpc-go's policy, PermitWithoutStream off, no flag in etcd), and closes the connection after
      // three as "too many pings", which opened the API server's circuit breakers. A member cut off
      // by a partition is found by the calls' own deadlines and the breaker instead.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // grpc-js refuses answers over 4 MiB by default, so a list of a few large Secrets failed.
      // etcd's own Go client (and so kube-apiserver) accepts up to 2 GiB; batched reads and
      // migration pages need it too.
      'grpc.max_receive_message_length': -1,
    },
  };
  const timeout = o.callTimeoutMs;
  if (timeout !== undefined) opts.defaultCallOptions = (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout });
  if (o.faults === 'fail-fast') opts.faultHandling = { host: () => noop, global: noop };
  if (o.faults === 'retry-once') {
    opts.faultHandling = {
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 1, backoff: new ConstantBackoff(50) }),
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 2_000, breaker: new ConsecutiveBreaker(3) }),
    };
  }
  if (o.tls) {
    opts.credentials = {
      rootCertificate: o.tls.ca ?? (undefined as unknown as Buffer),
      privateKey: o.tls.key,
      certChain: o.tls.cert,
    };
  }
  return new Etcd3(opts);
}

/** TLS material from the files a configuration names; none unless an endpoint is https. */
export function readEtcdTls(c: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string }): EtcdClientOptions['tls'] {
  if (!c.endpoints.some((e) => e.startsWith('https://')) || !c.caFile) return undefined;
  return {
    ca: readFileSync(c.caFile),
    cert: c.certFile ? readFileSync(c.certFile) : undefined,
    key: c.keyFile ? readFileSync(c.keyFile) : undefined,
  };
}
