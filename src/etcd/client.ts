/**
 * The one place etcd3 clients are made. Every client gets the same transport: TLS when given,
 * a dial timeout, a deadline on each unary call (streams such as watches and lease keep-alives
 * live as long as they are used), keep-alive pings, and no cap on the size of an answer. What
 * differs is only what to do when a member fails, which is the caller's to choose.
 */
import { readFileSync } from 'node:fs';
import { BrokenCircuitError, ConsecutiveBreaker, ConstantBackoff, circuitBreaker, handleWhen, noop, retry, type IPolicy } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import { EndpointProber } from './prober.js';

export interface EtcdClientOptions {
  endpoints: string[];
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  dialTimeoutMs: number;
  /** Deadline for each unary call; none when unset (callers then pass their own). */
  callTimeoutMs?: number;
  /**
   * - `fail-fast`: exactly the endpoints asked, no retry: an admin wants a member's own answer or
   *   its error (the CLI);
   * - `retry-once`: one retry on another member, then fail, with a circuit breaker per member
   *   and a prober that skips members which do not answer their status within a second or have
   *   no leader: a server answers 503/504 rather than hang (the API server);
   * - `never-resend`: as `retry-once`, but a call that reached a member is never sent again: the
   *   API server's writes. A write whose answer was lost (a member stopped or cut off after it
   *   took the write) may be applied; sent again, its compare fails and a 409 answers a write that
   *   happened (the robustness suite's restore saw one). Its outcome is unknown, so it is reported
   *   as such (504). A member skipped by the prober or its breaker before sending is still passed over;
   * - `patient`: etcd3's own policy, three retries: long-running controllers (the operator).
   */
  faults: 'fail-fast' | 'retry-once' | 'never-resend' | 'patient';
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
  if (o.tls) {
    opts.credentials = {
      rootCertificate: o.tls.ca ?? (undefined as unknown as Buffer),
      privateKey: o.tls.key,
      certChain: o.tls.cert,
    };
  }
  let prober: EndpointProber | undefined;
  if (o.faults === 'retry-once' || o.faults === 'never-resend') {
    const p = (prober = o.endpoints.length > 1 ? new EndpointProber({ endpoints: o.endpoints, everyMs: 1000, connect: (e) => createEtcdClient({ endpoints: [e], tls: o.tls, dialTimeoutMs: 1500, callTimeoutMs: 1500, faults: 'fail-fast' }) }) : undefined);
    opts.faultHandling = {
      global: retry(handleWhen(o.faults === 'never-resend' ? neverSent : isRecoverableError), { maxAttempts: 1, backoff: new ConstantBackoff(50) }),
      // A breaker sends calls to another member while one is failing. With a single member there is
      // no other: an open breaker would only turn a slow etcd into refusals for everyone.
      host: (h) => skipping(h, p, o.endpoints.length > 1 ? circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 2_000, breaker: new ConsecutiveBreaker(3) }) : noop),
    };
  }
  const client = new Etcd3(opts);
  if (prober) {
    const close = client.close.bind(client);
    client.close = () => {
      prober.close();
      close();
    };
  }
  return client;
}

/**
 * A member the prober finds unwell refuses the call at once as an open breaker would, so the pool
 * tries the next member instead of waiting out the deadline on a connection a partition swallows.
 */
function skipping(host: string, prober: EndpointProber | undefined, inner: IPolicy): IPolicy {
  if (!prober) return inner;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'execute') return Reflect.get(target, prop, receiver);
      return (fn: Parameters<IPolicy['execute']>[0], signal?: AbortSignal) => {
        if (prober.skip(host)) return Promise.reject(new BrokenCircuitError(`etcd member ${host} is unavailable: cut off or without a leader (status probe)`));
        return target.execute(fn, signal);
      };
    },
  });
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

/** grpc-js could not open a connection to the member: the call never left, so sending it elsewhere is safe. */
function neverSent(err: Error): boolean {
  return isRecoverableError(err) && /No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(err.message);
}
