/**
 * `pods/exec` and `pods/log`: the API server authorizes the user, finds the pod's node and that
 * node's agent (its kubelet API), and passes the request on with its own client certificate, as
 * kube-apiserver's upgrade-aware proxy does. For exec, the WebSocket bytes then flow unchanged
 * between kubectl and the agent.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../storage/store.js';

export interface KubeletEndpoint {
  address: string;
  port: number;
}

export interface KubeletClientTLS {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

/** The agent's address and port, as the Node object reports them (status.addresses, daemonEndpoints). */
export function kubeletEndpointOf(node: KubeObject): KubeletEndpoint | undefined {
  const address: string | undefined = node.status?.addresses?.find((a: { type?: string }) => a.type === 'InternalIP')?.address;
  const port: number | undefined = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return address && port ? { address, port } : undefined;
}

/** The agent's path for an exec: `/exec/<ns>/<pod>/<container>?<the client's query>`. */
export function kubeletPath(verb: 'exec' | 'containerLogs', namespace: string, pod: string, container: string, query: URLSearchParams): string {
  const q = new URLSearchParams(query);
  q.delete('container');
  const s = q.toString();
  return `/${verb}/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(container)}${s ? `?${s}` : ''}`;
}

/** Headers that belong to the hop to us, not to the agent: the user's credentials stay here. */
const HOP_HEADERS = new Set(['authorization', 'host', 'impersonate-user', 'impersonate-group']);

/**
 * Replays the client's upgrade request to the agent and, once the agent answers, splices the two
 * sockets. The agent's own answer (101, or its error) reaches the client byte for byte.
 */
export function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: KubeletEndpoint, path: string, tls: KubeletClientTLS, onError: (message: string) => void): void {
  const upstream: TLSSocket = tlsConnect({ host: target.address, port: target.port, ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost', timeout: 10_000 });
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${target.address}:${target.port}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!HOP_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  let connected = false;
  upstream.once('secureConnect', () => {
    connected = true;
    upstream.setTimeout(0);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.once('timeout', () => upstream.destroy(new Error('timed out')));
  upstream.once('error', (err) => {
    if (!connected) {
      onError(`cannot reach the node's agent at ${target.address}:${target.port}: ${err.message}`);
      return;
    }
    client.destroy();
  });
  client.once('error', () => upstream.destroy());
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
}

/**
 * Streams the agent's answer (logs may follow for hours) until either side goes away. An error
 * from the agent becomes a Status with the agent's words, as kube-apiserver's response checker does.
 */
export function proxyGet(req: IncomingMessage, res: ServerResponse, target: KubeletEndpoint, path: string, tls: KubeletClientTLS, onError: (code: number, message: string) => void): void {
  const up = httpsRequest({ host: target.address, port: target.port, path, method: 'GET', ca: tls.ca, cert: tls.cert, key: tls.key, servername: 'localhost', timeout: 10_000 }, (r) => {
    up.setTimeout(0);
    const code = r.statusCode ?? 502;
    if (code < 200 || code > 299) {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d.length + body.length > 4096 ? '' : d));
      r.on('end', () => onError(code, body.trim() || `the node's agent answered ${code}`));
      return;
    }
    res.writeHead(code, { 'Content-Type': r.headers['content-type'] ?? 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
    r.pipe(res);
  });
  up.once('timeout', () => up.destroy(new Error('timed out')));
  up.once('error', (err) => {
    if (!res.headersSent) onError(503, `cannot reach the node's agent at ${target.address}:${target.port}: ${err.message}`);
    else res.destroy();
  });
  req.once('close', () => up.destroy());
  up.end();
}
