/**
 * The agent's own API, as the kubelet's port 10250: `/exec/...` (remote-command WebSocket) and
 * `/containerLogs/...`. Only the API server calls it, with a client certificate from the cluster CA;
 * users reach it through `kubectl exec` and `kubectl logs`, which the API server authorizes.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { runExec } from './exec.js';
import { followLog, parseLogQuery, readLog } from './logs.js';
import { negotiate, parseExecOptions } from './remotecommand.js';
import type { Kubelet } from './kubelet.js';

export const KUBELET_PORT = 10250;

export interface AgentServerOptions {
  bindAddress: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  /** The CA whose client certificates may call: the API servers'. */
  clientCA: string | Buffer;
  kubelet: Pick<Kubelet, 'findContainer' | 'logDir'>;
  log: (line: string) => void;
}

export interface RunningAgentServer {
  port: number;
  close(): Promise<void>;
}

function plain(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

/** `/<verb>/<namespace>/<pod>/<container>`, each segment decoded once. */
function route(url: URL): { verb: string; namespace: string; pod: string; container?: string } | undefined {
  const parts = url.pathname.split('/').slice(1);
  if (parts.length < 3 || parts.length > 4) return undefined;
  try {
    const [verb, namespace, pod, container] = parts.map(decodeURIComponent) as [string, string, string, string?];
    if (!namespace || !pod) return undefined;
    return { verb, namespace, pod, container: container || undefined };
  } catch {
    return undefined;
  }
}

export async function startAgentServer(o: AgentServerOptions): Promise<RunningAgentServer> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => negotiate(offered) ?? false });
  const authorized = (req: IncomingMessage) => (req.socket as TLSSocket).authorized === true;

  const server: Server = createServer({ cert: o.cert, key: o.key, ca: o.clientCA, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') return plain(res, 200, 'ok');
    if (!authorized(req)) return plain(res, 401, 'Unauthorized: a client certificate from the cluster CA is required');
    const r = route(url);
    if (!r || req.method !== 'GET') return plain(res, 404, '404 page not found');
    if (r.verb === 'exec') return plain(res, 400, 'exec needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io)');
    if (r.verb !== 'containerLogs' || !r.container) return plain(res, 404, '404 page not found');
    let q;
    try {
      q = parseLogQuery(url.searchParams);
    } catch (err) {
      return plain(res, 400, (err as Error).message);
    }
    const dir = o.kubelet.logDir(r.namespace, r.pod, r.container);
    if (q.follow) return void followLog(dir, q, req, res);
    const out = readLog(dir, q);
    if ('error' in out) return plain(res, out.code, out.error);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(out.text);
  });

  server.on('upgrade', (req, socket, head) => {
    const reject = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : code === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${text}\n`);
    };
    if (!authorized(req)) return reject(401, 'a client certificate from the cluster CA is required');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const r = route(url);
    if (!r || r.verb !== 'exec') return reject(404, '404 page not found');
    let opts;
    try {
      opts = parseExecOptions(url.searchParams);
    } catch (err) {
      return reject(400, (err as Error).message);
    }
    const found = o.kubelet.findContainer(r.namespace, r.pod, r.container);
    if ('error' in found) return reject(404, found.error);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const protocol = negotiate(offered);
    if (!protocol) return reject(400, `none of the offered subprotocols (${offered.join(', ') || 'none'}) is supported: use v5.channel.k8s.io or v4.channel.k8s.io`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      void runExec(ws, protocol, opts, found.runner.execContext, (l) => o.log(`${r.namespace}/${r.pod}/${found.runner.name}: ${l}`)).catch((err) => {
        o.log(`exec failed: ${(err as Error).message}`);
        ws.terminate();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.bindAddress, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
