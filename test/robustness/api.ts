/**
 * Two ways to talk to the API server, behind one small interface: @kubernetes/client-node (what
 * Kubernetes tools in JavaScript use) and plain HTTPS requests (what every other client does).
 * Both return the raw answer (status and parsed body) or the transport error, so the traffic
 * records the same thing whichever client sent the request.
 */
import { Agent, request } from 'node:https';
import { createInterface } from 'node:readline';
import { CoreV1Api, KubeConfig, Watch, type RequestContext, type ResponseContext } from '@kubernetes/client-node';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';

/** An answer with a status (any status), or no answer at all. */
export type Reply = { status: number; body: any } | { error: string };

export interface ConfigMapRef {
  namespace: string;
  name: string;
}

export interface ListQuery {
  namespace: string;
  /** fieldSelector metadata.name=... */
  name?: string;
  limit?: number;
  continue?: string;
}

export interface WatchQuery {
  namespace: string;
  name?: string;
  resourceVersion: string;
  timeoutSeconds: number;
}

/** One line of a watch stream: {type, object}. */
export interface WatchLine {
  type: string;
  object: any;
}

export interface WatchHandle {
  abort(): void;
}

export interface Api {
  readonly flavor: 'client-node' | 'http';
  readonly target: string;
  create(ref: ConfigMapRef, value: string, signal: AbortSignal): Promise<Reply>;
  update(ref: ConfigMapRef, value: string, resourceVersion: string | undefined, signal: AbortSignal): Promise<Reply>;
  remove(ref: ConfigMapRef, resourceVersion: string | undefined, signal: AbortSignal): Promise<Reply>;
  get(ref: ConfigMapRef, signal: AbortSignal): Promise<Reply>;
  list(q: ListQuery, signal: AbortSignal): Promise<Reply>;
  /** Opens a watch: `opened` with the HTTP status once answered, each line, then `ended` once. */
  watch(q: WatchQuery, h: { opened(status: number, body?: any): void; line(l: WatchLine): void; ended(error?: string): void }): WatchHandle;
  close(): void;
}

/** Where to send requests: the load balancer or one API server, with the admin's credentials. */
export interface Target {
  name: string;
  url: string;
  ca: string;
  token: string;
}

export function targetsOf(kubeconfig: string, servers: Array<{ name: string; url: string }>): Target[] {
  const k = loadKubeconfig(kubeconfig);
  if (!k.ca || !k.token) throw new Error(`${kubeconfig}: the admin context needs a CA and a token`);
  return servers.map((s) => ({ ...s, ca: k.ca!, token: k.token! }));
}

export const configMap = (ref: ConfigMapRef, value: string, resourceVersion?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: ref.name, namespace: ref.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
  data: { v: value },
});

const cmPath = (namespace: string, name?: string) => `/api/v1/namespaces/${namespace}/configmaps${name ? `/${name}` : ''}`;

function listSearch(q: { name?: string; limit?: number; continue?: string }): URLSearchParams {
  const p = new URLSearchParams();
  if (q.name) p.set('fieldSelector', `metadata.name=${q.name}`);
  if (q.limit) p.set('limit', String(q.limit));
  if (q.continue) p.set('continue', q.continue);
  return p;
}

/** What a transport error says, in a few words: the figures group errors by it. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; type?: string; message?: string; cause?: { code?: string } };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError' || e?.type === 'aborted') return 'timeout';
  const code = e?.code ?? e?.cause?.code;
  if (code) return code;
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 120);
}

/** Plain HTTPS: node's own client, one keep-alive agent per target. */
export class HttpApi implements Api {
  readonly flavor = 'http' as const;
  private readonly agent: Agent;

  constructor(private readonly t: Target) {
    this.agent = new Agent({ keepAlive: true, ca: t.ca, maxSockets: 4 });
  }

  get target(): string {
    return this.t.name;
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, body: unknown, signal: AbortSignal): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve) => {
      const url = new URL(path, this.t.url);
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          signal,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${this.t.token}`,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => resolve({ error: describeError(err) }));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: any;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: json });
          });
        },
      );
      req.on('error', (err) => resolve({ error: describeError(err) }));
      req.end(payload);
    });
  }

  create(ref: ConfigMapRef, value: string, signal: AbortSignal): Promise<Reply> {
    return this.send('POST', cmPath(ref.namespace), configMap(ref, value), signal);
  }

  update(ref: ConfigMapRef, value: string, rv: string | undefined, signal: AbortSignal): Promise<Reply> {
    return this.send('PUT', cmPath(ref.namespace, ref.name), configMap(ref, value, rv), signal);
  }

  remove(ref: ConfigMapRef, rv: string | undefined, signal: AbortSignal): Promise<Reply> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...(rv ? { preconditions: { resourceVersion: rv } } : {}) };
    return this.send('DELETE', cmPath(ref.namespace, ref.name), body, signal);
  }

  get(ref: ConfigMapRef, signal: AbortSignal): Promise<Reply> {
    return this.send('GET', cmPath(ref.namespace, ref.name), undefined, signal);
  }

  list(q: ListQuery, signal: AbortSignal): Promise<Reply> {
    const s = listSearch(q).toString();
    return this.send('GET', `${cmPath(q.namespace)}${s ? `?${s}` : ''}`, undefined, signal);
  }

  watch(q: WatchQuery, h: { opened(status: number, body?: any): void; line(l: WatchLine): void; ended(error?: string): void }): WatchHandle {
    const ac = new AbortController();
    const p = listSearch({ name: q.name });
    p.set('watch', 'true');
    p.set('resourceVersion', q.resourceVersion);
    p.set('allowWatchBookmarks', 'true');
    p.set('timeoutSeconds', String(q.timeoutSeconds));
    let ended = false;
    const end = (error?: string) => {
      if (ended) return;
      ended = true;
      h.ended(error);
    };
    // Its own agent: a stream holds its socket for minutes.
    const req = request(new URL(`${cmPath(q.namespace)}?${p}`, this.t.url), { ca: this.t.ca, signal: ac.signal, headers: { authorization: `Bearer ${this.t.token}`, accept: 'application/json' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: any;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {}
          h.opened(status, body);
          end();
        });
        res.on('error', (err) => end(describeError(err)));
        return;
      }
      h.opened(200);
      const lines = createInterface({ input: res });
      lines.on('line', (l) => {
        if (!l.trim()) return;
        try {
          h.line(JSON.parse(l) as WatchLine);
        } catch {
          end(`unparsable watch line: ${l.slice(0, 80)}`);
          ac.abort();
        }
      });
      res.on('error', (err) => end(describeError(err)));
      lines.on('error', (err) => end(describeError(err)));
      res.on('aborted', () => end('aborted'));
      lines.on('close', () => end());
    });
    req.on('error', (err) => end(describeError(err)));
    req.end();
    return { abort: () => ac.abort() };
  }
}

/** Duck-typed rxjs-stub observable, which is all client-node's middleware chain asks of one. */
const observable = <T>(v: T | Promise<T>) => ({ toPromise: () => Promise.resolve(v) }) as any;

/**
 * @kubernetes/client-node's CoreV1Api and Watch. A middleware adds the abort signal and keeps
 * the raw answer: a delete's body is the deleted object, which client-node reads as a V1Status.
 */
export class ClientNodeApi implements Api {
  readonly flavor = 'client-node' as const;
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;

  constructor(private readonly t: Target) {
    this.kc = new KubeConfig();
    this.kc.loadFromOptions({
      // Every serving certificate names localhost; an IP as the TLS server name is deprecated.
      clusters: [{ name: t.name, server: t.url, caData: Buffer.from(t.ca).toString('base64'), tlsServerName: 'localhost' }],
      users: [{ name: 'admin', token: t.token }],
      contexts: [{ name: 'admin', cluster: t.name, user: 'admin' }],
      currentContext: 'admin',
    });
    this.core = this.kc.makeApiClient(CoreV1Api);
  }

  get target(): string {
    return this.t.name;
  }

  close(): void {}

  private async call(signal: AbortSignal, fn: (opts: any) => Promise<unknown>): Promise<Reply> {
    let raw: { status: number; text: string } | undefined;
    const opts = {
      middleware: [
        {
          pre: (ctx: RequestContext) => {
            ctx.setSignal(signal as never);
            return observable(ctx);
          },
          post: (rsp: ResponseContext) =>
            observable(
              rsp.body.text().then((text) => {
                raw = { status: rsp.httpStatusCode, text };
                rsp.body = { text: async () => text, binary: async () => Buffer.from(text) };
                return rsp;
              }),
            ),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
    try {
      const out = await fn(opts);
      if (!raw) return { status: 200, body: out };
      return { status: raw.status, body: parseOr(raw.text, out) };
    } catch (err) {
      // client-node throws ApiException for non-2xx answers; anything else is the transport.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && raw) return { status: code, body: parseOr(raw.text, undefined) };
      return { error: describeError(err) };
    }
  }

  create(ref: ConfigMapRef, value: string, signal: AbortSignal): Promise<Reply> {
    return this.call(signal, (o) => this.core.createNamespacedConfigMap({ namespace: ref.namespace, body: configMap(ref, value) }, o));
  }

  update(ref: ConfigMapRef, value: string, rv: string | undefined, signal: AbortSignal): Promise<Reply> {
    return this.call(signal, (o) => this.core.replaceNamespacedConfigMap({ namespace: ref.namespace, name: ref.name, body: configMap(ref, value, rv) }, o));
  }

  remove(ref: ConfigMapRef, rv: string | undefined, signal: AbortSignal): Promise<Reply> {
    return this.call(signal, (o) =>
      this.core.deleteNamespacedConfigMap({ namespace: ref.namespace, name: ref.name, body: rv ? { preconditions: { resourceVersion: rv } } : {} }, o),
    );
  }

  get(ref: ConfigMapRef, signal: AbortSignal): Promise<Reply> {
    return this.call(signal, (o) => this.core.readNamespacedConfigMap({ namespace: ref.namespace, name: ref.name }, o));
  }

  list(q: ListQuery, signal: AbortSignal): Promise<Reply> {
    return this.call(signal, (o) =>
      this.core.listNamespacedConfigMap({ namespace: q.namespace, limit: q.limit, _continue: q.continue, fieldSelector: q.name ? `metadata.name=${q.name}` : undefined }, o),
    );
  }

  watch(q: WatchQuery, h: { opened(status: number, body?: any): void; line(l: WatchLine): void; ended(error?: string): void }): WatchHandle {
    let controller: AbortController | undefined;
    let aborted = false;
    let opened = false;
    let ended = false;
    const end = (error?: string) => {
      if (ended) return;
      ended = true;
      h.ended(error);
    };
    const path = cmPath(q.namespace);
    const params = {
      resourceVersion: q.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: q.timeoutSeconds,
      ...(q.name ? { fieldSelector: `metadata.name=${q.name}` } : {}),
    };
    void new Watch(this.kc)
      .watch(
        path,
        params,
        (type, object) => {
          if (!opened) {
            opened = true;
            h.opened(200);
          }
          h.line({ type, object });
        },
        (err: any) => {
          // client-node reports a non-200 answer as an error with statusCode, without its body.
          if (!opened && typeof err?.statusCode === 'number') {
            opened = true;
            h.opened(err.statusCode);
            end();
            return;
          }
          if (!opened && !err) h.opened(200);
          end(err ? describeError(err) : undefined);
        },
      )
      .then((c) => {
        controller = c;
        if (aborted) c.abort();
      }, (err) => end(describeError(err)));
    return {
      abort: () => {
        aborted = true;
        controller?.abort();
        end('aborted by the client');
      },
    };
  }
}

function parseOr(text: string, fallback: unknown): any {
  try {
    return text ? JSON.parse(text) : fallback;
  } catch {
    return fallback;
  }
}
