import { Agent, request } from 'node:https';
import type { KubeTarget } from './kubeconfig.js';
import { ApiError } from './status.js';

/**
 * A small client for the Kubernetes REST API of our API server. The operator, the agents and
 * the CLI need a handful of verbs; @kubernetes/client-node would do, but takes seconds to load,
 * which every CLI call would pay.
 */
export type KubeObject = Record<string, any> & { metadata: Record<string, any> };

export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
}

export { ApiError } from './status.js';

export const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.code === 409;
export const isAlreadyExists = (e: unknown) => e instanceof ApiError && e.reason === 'AlreadyExists';

export function resourcePath(r: ResourceRef, name?: string, subresource?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : '';
  return `${base}${ns}/${r.resource}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

export const CORE = (resource: string, namespace?: string): ResourceRef => ({ group: '', version: 'v1', resource, namespace });
export const OPERATOR = (resource: string): ResourceRef => ({ group: 'operator.openshift.io', version: 'v1', resource });
export const CONFIG = (resource: string): ResourceRef => ({ group: 'config.openshift.io', version: 'v1', resource });

export class KubeClient {
  private readonly agent: Agent;

  constructor(
    private readonly target: KubeTarget,
    private readonly timeoutMs = 10_000,
  ) {
    this.agent = new Agent({ keepAlive: true, ca: target.ca, rejectUnauthorized: !target.insecure });
  }

  close(): void {
    this.agent.destroy();
  }

  /** The kubeconfig user this client acts as, when it came from a kubeconfig. */
  get user(): string | undefined {
    return this.target.user;
  }

  async request<T = KubeObject>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(path, this.target.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          servername: 'localhost',
          timeout: this.timeoutMs,
          headers: {
            accept: 'application/json',
            ...(this.target.token ? { authorization: `Bearer ${this.target.token}` } : {}),
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: any;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(json as T);
            else reject(new ApiError(code, json?.reason ?? 'Unknown', json?.message ?? `${method} ${url.pathname}: HTTP ${code}`, json?.details));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new ApiError(504, 'Timeout', `${method} ${url.pathname}: no answer within ${this.timeoutMs / 1000}s`)));
      req.on('error', (err) => reject(err instanceof ApiError ? err : new ApiError(503, 'ServiceUnavailable', `${method} ${url.pathname}: ${err.message}`)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  get(r: ResourceRef, name: string): Promise<KubeObject> {
    return this.request('GET', resourcePath(r, name));
  }

  async getOrUndefined(r: ResourceRef, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.get(r, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists every page (limit/continue), so big lists do not load in one response. */
  async list(r: ResourceRef, opts: { labelSelector?: string; limit?: number } = {}): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const q = new URLSearchParams();
      if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
      q.set('limit', String(opts.limit ?? 500));
      if (cont) q.set('continue', cont);
      const page = await this.request<{ items: KubeObject[]; metadata: { continue?: string; resourceVersion: string } }>('GET', `${resourcePath(r)}?${q}`);
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  create(r: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    return this.request('POST', resourcePath(r), obj);
  }

  update(r: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    return this.request('PUT', resourcePath(r, obj.metadata.name), obj);
  }

  updateStatus(r: ResourceRef, obj: KubeObject): Promise<KubeObject> {
    return this.request('PUT', resourcePath(r, obj.metadata.name, 'status'), obj);
  }

  mergePatch(r: ResourceRef, name: string, patch: unknown, subresource?: string): Promise<KubeObject> {
    return this.request('PATCH', resourcePath(r, name, subresource), patch, 'application/merge-patch+json');
  }

  delete(r: ResourceRef, name: string): Promise<KubeObject> {
    return this.request('DELETE', resourcePath(r, name));
  }

  /**
   * A watch stream (?watch=1), one callback per event; `onEnd` once when it ends for any reason
   * (the server's timeout, an API server restarting, close()). Watching again is the caller's.
   */
  watch(r: ResourceRef, opts: { labelSelector?: string; resourceVersion?: string; timeoutSeconds?: number }, onEvent: (e: WatchEvent) => void, onEnd: (err?: Error) => void): { close(): void } {
    const q = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true' });
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.resourceVersion) q.set('resourceVersion', opts.resourceVersion);
    if (opts.timeoutSeconds) q.set('timeoutSeconds', String(opts.timeoutSeconds));
    const url = new URL(`${resourcePath(r)}?${q}`, this.target.server);
    let ended = false;
    const end = (err?: Error) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = request(
      url,
      {
        agent: this.agent,
        servername: 'localhost',
        headers: { accept: 'application/json', ...(this.target.token ? { authorization: `Bearer ${this.target.token}` } : {}) },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          end(new ApiError(res.statusCode ?? 0, 'Unknown', `watch ${url.pathname}: HTTP ${res.statusCode}`));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (!line.trim()) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch {
              // A line cut by a dying server: the caller lists again after the end anyway.
            }
          }
        });
        res.on('end', () => end());
        res.on('error', (err) => end(err));
        res.on('close', () => end());
      },
    );
    req.on('error', (err) => end(err));
    req.end();
    return {
      close: () => {
        req.destroy();
        end();
      },
    };
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}
