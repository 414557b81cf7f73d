/**
 * `etcd-ops console`: an HTTP server on 127.0.0.1 (as `kubectl proxy`), the pages' two assets,
 * the live stream (Server-Sent Events), and the actions. Every route but /login needs the
 * session (auth.ts); every POST also its CSRF token and a same-origin request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from '../etcd/connection.js';
import type { ClusterFile } from '../home/cluster-file.js';
import type { KubeClient } from '../kube/client.js';
import { errorMessage, UserError } from '../util/errors.js';
import { ActionError, Actions } from './actions.js';
import { ConsoleAuth, hostAllowed, mutationRefusal, sessionCookie, type Session } from './auth.js';
import { loadAssets, type Assets } from './bundle.js';
import { consoleUser } from './events.js';
import { Hub } from './hub.js';

export interface ConsoleOptions {
  kube: KubeClient;
  etcd?: { conn: Connection; home: string; cluster: ClusterFile };
  /** 0: any free port. */
  port: number;
  sampleIntervalMs?: number;
}

export interface RunningConsole {
  url: string;
  port: number;
  hub: Hub;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const MAX_BODY = 64 * 1024;

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const assets = await loadAssets();
  const hub = new Hub({ kube: o.kube, etcd: o.etcd, sampleIntervalMs: o.sampleIntervalMs ?? 5000, user: consoleUser(o.kube) });
  const actions = new Actions(hub);
  const auth = new ConsoleAuth();
  let port = 0;

  const server: Server = createServer((req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: errorMessage(err) });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, port)) return send(res, 421, { error: `this console answers to 127.0.0.1:${port} and localhost:${port} only` });
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/login' && req.method === 'GET') {
      const s = auth.login(url.searchParams.get('token'));
      if (!s) return page(res, 401, 'Not logged in', 'This login link is wrong or was used already. Start <code>etcd-ops console</code> again for a new one.');
      res.setHeader('set-cookie', sessionCookie(s));
      // A same-site navigation from here, so the SameSite=Strict cookie goes with it (a redirect
      // at the end of a link followed from elsewhere would count as cross-site), and the token
      // leaves the address bar and history.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end('<!doctype html><meta charset="utf-8"><title>etcd-ops console</title><meta http-equiv="refresh" content="0;url=/"><p>Logged in. <a href="/">Open the console</a>.</p>');
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const session = auth.session(req.headers.cookie);
    if (!session) {
      if (url.pathname.startsWith('/api/')) return send(res, 401, { error: 'not logged in: open the URL etcd-ops console printed' });
      return page(res, 401, 'Not logged in', 'Open the login URL that <code>etcd-ops console</code> printed in its terminal.');
    }
    if (req.method === 'GET' || req.method === 'HEAD') return get(req, res, url, session);
    if (req.method === 'POST') return post(req, res, url, session);
    res.setHeader('allow', 'GET, POST');
    return send(res, 405, { error: `${req.method} is not allowed` });
  }

  function get(req: IncomingMessage, res: ServerResponse, url: URL, s: Session): void {
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(indexHtml(s.csrf, { meta: hub.get('meta'), overview: hub.get('overview') }));
      return;
    }
    const name = /^\/assets\/(app\.js|app\.css)$/.exec(url.pathname)?.[1] as keyof Assets | undefined;
    if (name) {
      const a = assets[name];
      const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, { 'content-type': a.type, 'cache-control': 'no-cache', vary: 'accept-encoding', ...(gz ? { 'content-encoding': 'gzip' } : {}) });
      res.end(gz ? a.gzip : a.body);
      return;
    }
    if (url.pathname === '/api/stream') return hub.subscribe(res);
    if (url.pathname === '/api/state') return send(res, 200, hub.snapshot());
    send(res, 404, { error: `no page ${url.pathname}` });
  }

  async function post(req: IncomingMessage, res: ServerResponse, url: URL, s: Session): Promise<void> {
    const refusal = mutationRefusal(req.headers, s, port);
    if (refusal) return send(res, 403, { error: refusal });
    const kind = /^\/api\/actions\/([a-z-]+)$/.exec(url.pathname)?.[1];
    if (!kind) return send(res, 404, { error: `no action at ${url.pathname}` });
    if (!/^application\/json\b/.test(String(req.headers['content-type'] ?? ''))) return send(res, 415, { error: 'send JSON (content-type: application/json)' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse((await readBody(req)) || '{}');
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch (err) {
      return send(res, 400, { error: `the request body is not a JSON object: ${errorMessage(err)}` });
    }
    try {
      send(res, 202, actions.start(kind, body));
    } catch (err) {
      if (err instanceof ActionError) return send(res, err.status, { error: err.message });
      if (err instanceof UserError) return send(res, 400, { error: err.message });
      throw err;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new UserError(`port ${o.port} on 127.0.0.1 is in use: pick another with --port (0: any free port)`) : err),
    );
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  await hub.start();
  return {
    url: `http://127.0.0.1:${port}/login?token=${auth.pendingLoginToken}`,
    port,
    hub,
    close: async () => {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function page(res: ServerResponse, code: number, title: string, html: string): void {
  res.writeHead(code, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="color-scheme" content="light dark"><title>${title} · etcd-ops console</title><h1>${title}</h1><p>${html}</p></html>`);
}

/**
 * The page, with the overview it opens on as inline JSON (a data block: the content security
 * policy runs no inline script), so the first render is already filled; the stream brings the rest.
 */
function indexHtml(csrf: string, initial: Record<string, unknown>): string {
  // `<` escaped: no value can close the script element.
  const state = JSON.stringify(initial).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="csrf-token" content="${csrf}">
<title>etcd-ops console</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<script type="application/json" id="initial-state">${state}</script>
<div id="app"><p class="loading">Loading…</p></div>
</body>
</html>`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
