/**
 * The API server process: HTTPS, authentication, authorization, routing to discovery and the REST
 * handlers, health and metrics, compaction, graceful shutdown.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { loadTransformers } from '../encryption/index.js';
import { createEtcdClient, readEtcdTls } from '../etcd/client.js';
import { Store } from '../storage/store.js';
import { startCompactor, type Compactor } from '../storage/compactor.js';
import { UserError } from '../util/errors.js';
import type { Duplex } from 'node:stream';
import { objectKey } from '../storage/keys.js';
import { kubeletEndpointOf, kubeletPath, proxyGet, proxyUpgrade, type KubeletClientTLS, type KubeletEndpoint } from './kubelet-proxy.js';
import { version as etcdOpsVersion } from '../version.js';
import { KUBE_VERSION } from '../kube/version.js';
import type { APIServerConfig } from './config.js';
import { TokenAuthenticator, authenticate, type UserInfo } from './auth.js';
import { ApiError, errors } from './status.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { findResource, type ResourceDef } from './resources.js';
import { Rest, type RequestScope, type Result } from './rest.js';
import { serveWatch } from './watch.js';
import { Metrics } from './metrics.js';
import { bootstrap } from './bootstrap.js';
import { serveOpenAPI } from './openapi.js';
import { createLogger, type Logger } from './log.js';
import { isPretty } from './options.js';
import { parseRequestInfo, type RequestInfo } from './requestinfo.js';
import { RBACAuthorizer } from './rbac/authorizer.js';
import { PolicyCache } from './rbac/cache.js';
import { SYSTEM_MASTERS } from './rbac/rules.js';
import { attributesOf, review } from './rbac/review.js';


export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export async function startAPIServer(cfg: APIServerConfig, log: Logger = createLogger()): Promise<RunningServer> {
  const tokens = TokenAuthenticator.load(cfg.authentication.tokenFile);
  let cert: Buffer, key: Buffer, ca: Buffer | undefined;
  try {
    cert = readFileSync(cfg.servingCert.certFile);
    key = readFileSync(cfg.servingCert.keyFile);
    ca = cfg.clientCA ? readFileSync(cfg.clientCA) : undefined;
  } catch (err) {
    throw new UserError(`cannot read the serving certificate files: ${(err as Error).message}`);
  }
  const transformers = loadTransformers(cfg.encryptionConfigFile);
  const metrics = new Metrics();
  const etcdOpts = { endpoints: cfg.etcd.endpoints, tls: readEtcdTls(cfg.etcd), dialTimeoutMs: cfg.etcdRequestTimeoutMs, callTimeoutMs: cfg.etcdRequestTimeoutMs };
  const client: Etcd3 = createEtcdClient({ ...etcdOpts, faults: 'retry-once' });
  // Writes are never sent twice: a resent write that had been applied answers 409 (client.ts).
  const writer: Etcd3 = createEtcdClient({ ...etcdOpts, faults: 'never-resend' });
  const store = new Store(client, transformers, { timeoutMs: cfg.etcdRequestTimeoutMs, onTransform: metrics.observeTransform, writeClient: writer });
  const policy = new PolicyCache(store, (m) => log.info(m));
  const authorizer = new RBACAuthorizer(policy);
  const rest = new Rest(store, authorizer);
  const openWatches = new Set<() => void>();
  const inFlight = new Set<ServerResponse>();
  let bootstrapped = false;
  let shuttingDown = false;
  let compactor: Compactor | undefined;

  const readiness = { ok: false, at: 0, why: 'not checked yet' };
  const checkEtcd = async (): Promise<boolean> => {
    if (Date.now() - readiness.at < 1000) return readiness.ok;
    try {
      await store.currentRevision();
      readiness.ok = true;
      readiness.why = '';
    } catch (err) {
      readiness.ok = false;
      readiness.why = (err as Error).message;
    }
    readiness.at = Date.now();
    metrics.etcdReady.set(readiness.ok ? 1 : 0);
    return readiness.ok;
  };

  const runBootstrap = async () => {
    for (let attempt = 0; !shuttingDown; attempt++) {
      try {
        const created = await bootstrap(store);
        // The cache lists after the bootstrap policy exists, so a ready server knows it.
        await policy.start();
        bootstrapped = true;
        log.info(created.length ? `bootstrap created ${created.join(', ')}` : 'bootstrap objects already present');
        return;
      } catch (err) {
        if (attempt % 10 === 0) log.warn(`bootstrap waiting for etcd: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };

  const server: Server = createServer(
    {
      cert,
      key,
      ...(ca ? { ca, requestCert: true, rejectUnauthorized: false } : {}),
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      inFlight.add(res);
      res.on('close', () => inFlight.delete(res));
      void handle(req, res);
    },
  );
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0; // watches are long; each etcd call has its own deadline

  function send(res: ServerResponse, code: number, body: unknown, warnings: string[] = [], contentType?: string, pretty = false): void {
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    // pretty: json.Indent with two spaces, as kube-apiserver's serializer does.
    const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : pretty ? `${JSON.stringify(body, null, 2)}\n` : JSON.stringify(body);
    const headers: Record<string, string | string[]> = {
      'Content-Type': contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'),
      'Cache-Control': 'no-cache, private',
      'X-Content-Type-Options': 'nosniff',
    };
    if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    res.writeHead(code, headers);
    res.end(text);
  }

  /** Events rather than `for await`: the async iterator costs more CPU than the body on every write. */
  function readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = cfg.maxRequestBodyBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) return Promise.reject(errors.tooLarge(limit));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.off('data', onData);
          req.off('end', onEnd);
          req.resume(); // drain the rest; the 413 closes the connection
          reject(errors.tooLarge(limit));
          return;
        }
        chunks.push(c);
      };
      let ended = false;
      const onEnd = () => {
        ended = true;
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      };
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', reject);
      // 'close' follows 'end' on every request; only before it did the client go away mid-body.
      req.once('close', () => {
        if (!ended) reject(new Error('the client closed the connection before the body ended'));
      });
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    // The raw target, not `new URL()`: "//x" must stay a path, and no dot segments are resolved away.
    const target = req.url ?? '/';
    const qi = target.indexOf('?');
    const rawPath = (qi >= 0 ? target.slice(0, qi) : target) || '/';
    const query = new URLSearchParams(qi >= 0 ? target.slice(qi + 1) : '');
    const pretty = isPretty(query, req.headers['user-agent']);
    let labels = { verb: req.method ?? 'GET', group: '', resource: '', subresource: '' };
    const finish = (code: number) => {
      metrics.requests.inc({ ...labels, code: String(code) });
      if (labels.verb !== 'WATCH') metrics.latency.observe({ verb: labels.verb, group: labels.group, resource: labels.resource }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      let info: RequestInfo | undefined;
      let badPath: unknown;
      try {
        info = parseRequestInfo(req.method ?? 'GET', rawPath, query);
      } catch (err) {
        badPath = err;
      }
      if (info && (PUBLIC_PATHS.has(info.path) || /^\/(healthz|livez|readyz)\//.test(info.path))) {
        const r = await health(info.path);
        send(res, r.code, r.body, [], undefined, pretty);
        finish(r.code);
        return;
      }
      const user = authenticate(req, tokens, !!ca);
      if (!user) throw errors.unauthorized();
      if (badPath !== undefined || !info) throw badPath;
      if (shuttingDown) throw errors.unavailable('the API server is shutting down');
      authorizeRequest(user, info);
      const r = await route(req, res, info, query, user, (l) => (labels = { ...labels, ...l }));
      if (r) {
        send(res, r.code, r.body, r.warnings, r.contentType, pretty);
        finish(r.code);
      } else finish(200);
    } catch (err) {
      let e: ApiError;
      if (err instanceof ApiError) e = err;
      else {
        e = errors.internal((err as Error)?.message ?? String(err));
        log.error(`${req.method} ${rawPath.slice(0, 200)}: ${(err as Error)?.stack ?? String(err)}`);
      }
      if (e.code >= 500) log.warn(`${req.method} ${rawPath.slice(0, 200)} -> ${e.code} ${e.reason}: ${e.message}`);
      if (e.code === 413) res.setHeader('Connection', 'close');
      send(res, e.code, e.toStatus(), [], undefined, pretty);
      finish(e.code);
    }
  }

  /** RBAC on the parsed request: the same RequestInfo the router reads. */
  function authorizeRequest(user: UserInfo, info: RequestInfo): void {
    if (!user.groups.includes(SYSTEM_MASTERS) && !policy.synced) throw errors.unavailable('authorization is not ready yet: the RBAC cache has not been loaded from etcd');
    const d = authorizer.authorize(attributesOf(user, info));
    if (d.allowed) return;
    if (!info.isResourceRequest) throw new ApiError(403, 'Forbidden', `forbidden: ${d.reason}`, {});
    throw errors.forbidden({ group: info.apiGroup, resource: info.resource }, info.name || undefined, d.reason);
  }

  async function health(path: string): Promise<{ code: number; body: unknown }> {
    if (path.startsWith('/version')) {
      return {
        code: 200,
        body: {
          ...KUBE_VERSION,
          gitCommit: `etcd-ops-${etcdOpsVersion}`,
          gitTreeState: 'clean',
          buildDate: '2025-01-01T00:00:00Z',
          goVersion: `node ${process.version}`,
          compiler: 'tsx',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        },
      };
    }
    if (path.startsWith('/livez') || path.startsWith('/healthz')) {
      if (path.startsWith('/healthz') && !(await checkEtcd())) return { code: 500, body: `[-]etcd failed: reason withheld\nhealthz check failed\n` };
      return { code: 200, body: 'ok' };
    }
    // readyz: only when etcd answers and the bootstrap objects exist.
    if (shuttingDown) return { code: 500, body: '[-]shutdown failed: reason withheld\nreadyz check failed\n' };
    const ok = (await checkEtcd()) && bootstrapped && policy.synced;
    if (!ok) return { code: 500, body: `[-]etcd failed: ${bootstrapped ? 'etcd does not answer' : 'waiting for bootstrap'}\nreadyz check failed\n` };
    return { code: 200, body: 'ok' };
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    query: URLSearchParams,
    user: UserInfo,
    setLabels: (l: Partial<{ verb: string; group: string; resource: string; subresource: string }>) => void,
  ): Promise<Result | undefined> {
    const method = req.method ?? 'GET';
    const path = info.path;
    if (!info.isResourceRequest) {
      if (path === '/metrics') {
        if (method !== 'GET') throw errors.methodNotAllowed();
        return { code: 200, body: await metrics.registry.metrics() };
      }
      if (path === '/api') return { code: 200, body: apiVersions(req.headers.host ?? `${cfg.bindAddress}:${cfg.port}`) };
      if (path === '/apis') return { code: 200, body: apiGroupList() };
      if (path.startsWith('/openapi/')) {
        const r = serveOpenAPI(path, new URL(`https://localhost/?${query}`), String(req.headers.accept ?? ''));
        if (!r) throw errors.pathNotFound();
        return r;
      }
      const parts = path.split('/').slice(1);
      if (parts[0] === 'api' && parts.length === 2) {
        const l = parts[1] === 'v1' ? apiResourceList('', 'v1') : undefined;
        if (!l) throw errors.pathNotFound();
        return { code: 200, body: l };
      }
      if (parts[0] === 'apis' && parts.length === 2) {
        const g = apiGroup(parts[1]!);
        if (!g) throw errors.pathNotFound();
        return { code: 200, body: g };
      }
      if (parts[0] === 'apis' && parts.length === 3) {
        const l = apiResourceList(parts[1]!, parts[2]!);
        if (!l) throw errors.pathNotFound();
        return { code: 200, body: l };
      }
      throw errors.pathNotFound();
    }
    const group = info.apiGroup;
    if (info.apiPrefix === 'api' && info.apiVersion !== 'v1') throw errors.pathNotFound();
    const def = findResource(group, info.apiVersion, info.resource);
    if (!def || info.extra.length) throw errors.pathNotFound();
    const isNamespaces = def.group === '' && def.resource === 'namespaces';
    // RequestInfo gives namespaces/<n> the namespace n (RBAC reads it so); storage keys them cluster-wide.
    const namespace = isNamespaces ? undefined : info.namespace || undefined;
    if (!def.namespaced && namespace !== undefined) throw errors.pathNotFound();
    const name = info.name || undefined;
    const subresource = info.subresource || undefined;
    if (def.group === '' && def.resource === 'pods' && name && (subresource === 'log' || subresource === 'exec')) {
      if (subresource === 'exec') throw errors.badRequest('Upgrade request required: kubectl exec speaks the remote-command WebSocket protocol (v5.channel.k8s.io, v4.channel.k8s.io)');
      if (info.verb !== 'get') throw errors.methodNotAllowed();
      setLabels({ verb: 'CONNECT', group: '', resource: 'pods', subresource: 'log' });
      const { endpoint, path } = await kubeletTarget(namespace!, name, 'containerLogs', query);
      proxyGet(req, res, endpoint, path, kubeletTLS(), (code, m) => {
        const e = code === 503 ? errors.unavailable(m) : code === 404 ? new ApiError(404, 'NotFound', m) : code === 401 || code === 403 ? errors.internal(`the node's agent refused this API server: ${m}`) : errors.badRequest(m);
        send(res, e.code, e.toStatus());
      });
      return undefined;
    }
    if (subresource !== undefined && !(subresource === 'status' && def.statusSubresource)) throw errors.pathNotFound();
    const verb = info.verb;
    if (!verb || (subresource && !['get', 'update', 'patch'].includes(verb))) throw errors.methodNotAllowed();
    if (def.verbs && !def.verbs.includes(verb)) throw errors.methodNotAllowed();
    setLabels({ verb: metricVerb(verb), group, resource: def.resource, subresource: subresource ?? '' });
    const needsBody = ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb);
    const body = needsBody ? await readBody(req) : undefined;
    const scope: RequestScope = { def, namespace, name, subresource, verb, query, req, body, user };
    if (def.review) {
      if (name !== undefined) throw errors.methodNotAllowed();
      return review(scope, authorizer);
    }
    switch (verb) {
      case 'get':
        return rest.get(scope);
      case 'list':
        return rest.list(scope);
      case 'watch':
        return watch(scope, res, def);
      case 'create':
        if (name !== undefined) throw errors.methodNotAllowed();
        return rest.create(scope);
      case 'update':
        return rest.update(scope);
      case 'patch':
        return rest.patch(scope);
      case 'delete':
        return rest.delete(scope);
      case 'deletecollection':
        return rest.deleteCollection(scope);
    }
    throw errors.methodNotAllowed();
  }

  async function watch(scope: RequestScope, res: ServerResponse, def: ResourceDef): Promise<undefined> {
    const labels = { group: def.group, resource: def.resource };
    metrics.watches.inc(labels);
    try {
      await serveWatch(scope, res, store, rest.listPrefix(def, scope.namespace), { bookmarkIntervalMs: cfg.watchBookmarkIntervalMs, defaultTimeoutMs: (30 + Math.random() * 30) * 60_000 }, {
        add(close) {
          openWatches.add(close);
          res.on('close', () => metrics.watches.dec(labels));
          return () => openWatches.delete(close);
        },
      });
    } catch (err) {
      metrics.watches.dec(labels);
      throw err;
    }
    return undefined;
  }

  /** The agents' kubelet API is reached with the API server's own client certificate, read once. */
  let kubeletTls: KubeletClientTLS | undefined;
  function kubeletTLS(): KubeletClientTLS {
    const c = cfg.kubeletClient;
    if (!c) throw errors.unavailable('this API server has no kubelet client certificate (kubeletClient in its config): exec and logs are not available');
    kubeletTls ??= { cert: readFileSync(c.cert), key: readFileSync(c.key), ca: readFileSync(c.ca) };
    return kubeletTls;
  }

  /** The pod's node's agent, and the agent's path for this request, as kube-apiserver's pod connect does. */
  async function kubeletTarget(namespace: string, name: string, verb: 'exec' | 'containerLogs', query: URLSearchParams): Promise<{ endpoint: KubeletEndpoint; path: string }> {
    const pods = findResource('', 'v1', 'pods')!;
    const pod = (await store.get(objectKey(pods.prefix, namespace, name), pods.groupResource))?.obj;
    if (!pod) throw errors.notFound(pods, name);
    const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const defaulted = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    const container = query.get('container') || (containers.length === 1 ? containers[0] : undefined);
    if (!container) {
      if (verb === 'containerLogs' && defaulted) return kubeletTarget(namespace, name, verb, new URLSearchParams([...query, ['container', defaulted]]));
      throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    }
    if (!containers.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    const nodeName: string | undefined = pod.spec?.nodeName;
    const nodes = findResource('', 'v1', 'nodes')!;
    const node = nodeName ? (await store.get(objectKey(nodes.prefix, undefined, nodeName), nodes.groupResource))?.obj : undefined;
    const endpoint = node && kubeletEndpointOf(node);
    if (!endpoint) throw errors.badRequest(`pod ${name} has no node with a kubelet endpoint to connect to`);
    return { endpoint, path: kubeletPath(verb, namespace, name, container, query) };
  }

  // kubectl exec: a WebSocket upgrade on pods/exec, authorized as `create` (kube's
  // AuthorizePodWebsocketUpgradeCreatePermission), then spliced through to the pod's agent.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const fail = (e: ApiError) => {
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    void (async () => {
      const target = req.url ?? '/';
      const qi = target.indexOf('?');
      const query = new URLSearchParams(qi >= 0 ? target.slice(qi + 1) : '');
      const user = authenticate(req, tokens, !!ca);
      if (!user) throw errors.unauthorized();
      const info = parseRequestInfo(req.method ?? 'GET', (qi >= 0 ? target.slice(0, qi) : target) || '/', query);
      if (!(info.apiPrefix === 'api' && info.resource === 'pods' && info.subresource === 'exec' && info.name && info.namespace)) throw errors.badRequest('only pods/exec can be upgraded');
      authorizeRequest(user, { ...info, verb: 'create' });
      metrics.requests.inc({ verb: 'CONNECT', group: '', resource: 'pods', subresource: 'exec', code: '101' });
      const { endpoint, path } = await kubeletTarget(info.namespace, info.name, 'exec', query);
      proxyUpgrade(req, socket, head, endpoint, path, kubeletTLS(), (m) => fail(errors.unavailable(m)));
    })().catch((err) => fail(err instanceof ApiError ? err : errors.internal((err as Error).message)));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new UserError(`cannot listen on ${cfg.bindAddress}:${cfg.port}: ${err.code ?? err.message}`)));
    server.listen(cfg.port, cfg.bindAddress, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info(`serving on https://${cfg.bindAddress}:${port} (node ${cfg.nodeName}), etcd ${cfg.etcd.endpoints.join(',')}${cfg.encryptionConfigFile ? `, encryption config ${cfg.encryptionConfigFile}` : ', no encryption config (identity)'}`);
  void runBootstrap();
  if (cfg.compactionIntervalMs > 0) compactor = startCompactor(client, cfg.compactionIntervalMs, cfg.etcdRequestTimeoutMs, (m) => log.info(m));

  const close = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info('shutting down: no new requests, finishing in-flight ones');
    compactor?.stop();
    policy.stop();
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    // Watches never finish on their own: end them so clients reconnect elsewhere.
    for (const w of [...openWatches]) w();
    const deadline = Date.now() + cfg.shutdownGraceMs;
    while (inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    server.closeAllConnections();
    await closed;
    client.close();
    writer.close();
    log.info('stopped');
  };
  return { port, close };
}

function metricVerb(verb: string): string {
  return ({ get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE' } as Record<string, string>)[verb] ?? verb.toUpperCase();
}
