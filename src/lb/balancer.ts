import { connect, createServer, type Server, type Socket } from 'node:net';
import { request } from 'node:https';

const CONNECT_TIMEOUT_MS = 3000;
const SHUTDOWN_AFTER_FAILURES = 3;

export interface Backend {
  name: string;
  host: string;
  port: number;
  healthy: boolean;
  /** Consecutive failed health checks; one success makes the backend healthy again. */
  failures: number;
}

export interface BalancerOptions {
  port: number;
  /** Where to listen, on `port`: loopback, and the hosts' bridge when hosts have their own network. */
  addresses?: string[];
  backends: Array<{ name: string; url: string }>;
  /** CA that signed the API servers' serving certificates, to health-check /readyz. */
  ca: string;
  healthIntervalMs?: number;
  log: (line: string) => void;
}

/**
 * A TCP load balancer for the API servers, like the one in front of kube-apiservers:
 * TLS passes through to the backends; only backends whose /readyz answers 200 get new
 * connections; a backend that refuses a connection, or does not take it within a few seconds
 * (a partition swallows it), is skipped at once for the next one. A backend that fails its
 * health check three times in a row has its open connections cut (HAProxy's
 * on-marked-down shutdown-sessions): its clients reconnect to a ready one instead of waiting
 * on a server that a partition cut off.
 */
export class Balancer {
  private readonly backends: Backend[];
  private servers: Server[] = [];
  private readonly clients = new Set<Socket>();
  /** The client connections forwarded to each backend. */
  private readonly sessions = new Map<string, Set<Socket>>();
  private timer?: NodeJS.Timeout;
  private next = 0;

  constructor(private readonly o: BalancerOptions) {
    this.backends = o.backends.map((b) => {
      const u = new URL(b.url);
      return { name: b.name, host: u.hostname, port: Number(u.port), healthy: true, failures: 0 };
    });
  }

  async start(): Promise<void> {
    for (const address of this.o.addresses ?? ['127.0.0.1']) {
      const server = createServer((client) => {
        this.clients.add(client);
        client.once('close', () => this.clients.delete(client));
        this.forward(client, new Set());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.o.port, address, () => resolve());
      });
      this.servers.push(server);
    }
    await this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.o.healthIntervalMs ?? 1000);
  }

  /** Stops at once: open connections (watches live for minutes) are cut, and clients reconnect. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const closed = Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
    for (const c of this.clients) c.destroy();
    await closed;
  }

  status(): Backend[] {
    return this.backends.map((b) => ({ ...b }));
  }

  private pick(tried: Set<string>): Backend | undefined {
    const candidates = this.backends.filter((b) => !tried.has(b.name));
    const healthy = candidates.filter((b) => b.healthy);
    // With no healthy backend, still try the others: a health check may simply be late.
    const pool = healthy.length ? healthy : candidates;
    if (!pool.length) return undefined;
    return pool[this.next++ % pool.length];
  }

  private forward(client: Socket, tried: Set<string>): void {
    const backend = this.pick(tried);
    if (!backend) {
      client.destroy();
      return;
    }
    tried.add(backend.name);
    client.pause();
    const upstream = connect(backend.port, backend.host);
    let connected = false;
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => {
      if (!connected) upstream.destroy(new Error('connect timeout'));
    });
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      const open = this.sessions.get(backend.name) ?? new Set<Socket>();
      this.sessions.set(backend.name, open);
      open.add(client);
      client.once('close', () => open.delete(client));
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected) {
        backend.healthy = false;
        if (!client.destroyed) this.forward(client, tried);
      } else {
        client.destroy();
      }
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    // A backend that refused the connection closes too: the client is already on its way to the next.
    upstream.on('close', () => {
      if (connected) client.destroy();
    });
  }

  private async checkAll(): Promise<void> {
    await Promise.all(
      this.backends.map(async (b) => {
        const ok = await this.ready(b);
        if (ok !== b.healthy) this.o.log(`backend ${b.name} is ${ok ? 'ready' : 'not ready'}`);
        b.failures = ok ? 0 : b.failures + 1;
        b.healthy = ok;
        if (b.failures === SHUTDOWN_AFTER_FAILURES) {
          const open = this.sessions.get(b.name);
          if (open?.size) this.o.log(`backend ${b.name} failed ${b.failures} health checks: cutting its ${open.size} connections`);
          for (const c of open ?? []) c.destroy();
        }
      }),
    );
  }

  private ready(b: Backend): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ host: b.host, port: b.port, path: '/readyz', ca: this.o.ca, servername: 'localhost', timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
}
