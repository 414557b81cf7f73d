import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import { noop } from 'cockatiel';
import { UserError } from '../util/errors.js';

export interface TlsFiles {
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface Connection {
  endpoints: string[];
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  commandTimeoutMs: number;
  dialTimeoutMs: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
export const DEFAULT_DIAL_TIMEOUT_MS = 2000;

/** Endpoints as etcdctl takes them: `host:port` or a URL; TLS flags imply https. */
export function parseEndpoints(list: string, tls: boolean): string[] {
  const eps = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (eps.length === 0) throw new UserError('--endpoints is empty: give one or more URLs, like http://127.0.0.1:2379');
  return eps.map((ep) => {
    const withScheme = /^[a-z]+:\/\//.test(ep) ? ep : `${tls ? 'https' : 'http'}://${ep}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new UserError(`--endpoints: "${ep}" is not an endpoint: use http(s)://host:port`);
    }
    if (!['http:', 'https:'].includes(u.protocol) || !u.port || (u.pathname !== '/' && u.pathname !== '')) {
      throw new UserError(`--endpoints: "${ep}" is not an endpoint: use http(s)://host:port`);
    }
    return `${u.protocol}//${u.host}`;
  });
}

export function readTls(files: TlsFiles): Connection['tls'] {
  if (!files.cacert && !files.cert && !files.key) return undefined;
  if (!!files.cert !== !!files.key) throw new UserError('--cert and --key go together: give both for client-certificate auth');
  const read = (flag: string, path?: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UserError(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  return { ca: read('--cacert', files.cacert), cert: read('--cert', files.cert), key: read('--key', files.key) };
}

/**
 * A client for exactly these endpoints, without the library's retries and circuit breakers:
 * an operator wants a member's own answer, or its error, within the command timeout.
 */
export function etcdClient(conn: Connection, endpoints = conn.endpoints): Etcd3 {
  const opts: IOptions = {
    hosts: endpoints,
    dialTimeout: conn.dialTimeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + conn.commandTimeoutMs }),
    faultHandling: { host: () => noop, global: noop },
  };
  if (conn.tls) {
    opts.credentials = {
      rootCertificate: conn.tls.ca ?? (undefined as unknown as Buffer),
      privateKey: conn.tls.key,
      certChain: conn.tls.cert,
    };
  }
  return new Etcd3(opts);
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
