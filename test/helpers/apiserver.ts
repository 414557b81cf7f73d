/**
 * A real API server for tests: PKI from src/pki, a token file, a config file, and
 * `node bin/etcd-ops.js apiserver --config` as a child process against a real etcd.
 * Also a kubeconfig for the real kubectl and a small HTTPS client for raw requests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:https';
import { createCA, issueServerCert, issueClientCert, writeCertKeyPair, writeCert } from '../../src/pki/index.js';
import { freePorts } from '../../src/util/ports.js';
import { waitFor } from '../../src/util/time.js';
import { trackPid, trackTempDir, untrackPid } from './cleanup.js';
import type { StartedEtcd } from './etcd.js';
import { DEVELOPER_USER, nodeUser, OPERATOR_USER, operatorGroups, tokensCsv } from '../../src/controlplane/credentials.js';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
export const BOB_TOKEN = 'bob-token-0123456789abcdef';
/** The control plane's own identities, with the groups `up` gives them (src/home/credentials.ts). */
export const DEVELOPER_TOKEN = 'developer-token-0123456789abcdef';
export const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
export const NODE_TOKEN = 'node-token-0123456789abcdef';

export interface StartedAPIServer {
  dir: string;
  port: number;
  url: string;
  caFile: string;
  kubeconfig: string;
  configFile: string;
  logFile: string;
  proc: ChildProcess;
  /** Runs the real kubectl as admin (or with another token); never throws. */
  kubectl(args: string[], opts?: { token?: string; input?: string; env?: Record<string, string> }): { status: number; stdout: string; stderr: string };
  /** A raw HTTPS request; body objects are sent as JSON. */
  req(method: string, path: string, opts?: { body?: unknown; token?: string | null; contentType?: string; headers?: Record<string, string>; clientCert?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; json: any }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Stops and starts the server again with config changes (they stay for later restarts). */
  restart(extraConfig?: Record<string, unknown>): Promise<void>;
}

export interface APIServerOptions {
  etcd: StartedEtcd;
  encryptionConfigFile?: string;
  /** An EncryptionConfiguration to write into the server's dir and use. */
  encryptionConfig?: string;
  compactionInterval?: string | 0;
  maxRequestBodyBytes?: number;
  /** Trust client certificates from the test CA (clientCA); writes client-admin.* and client-bob.* into dir. */
  clientCertAuth?: boolean;
  /** Client TLS towards an etcd started with `tls`. */
  etcdTls?: { caFile: string; certFile: string; keyFile: string };
}

function yamlConfig(o: Record<string, unknown>): string {
  // JSON is YAML.
  return JSON.stringify(o, null, 2);
}

export async function startAPIServer(opts: APIServerOptions): Promise<StartedAPIServer> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ops-apiserver-'));
  trackTempDir(dir);
  const ca = await createCA({ commonName: 'apiserver-test-ca' });
  const caFile = join(dir, 'ca.crt');
  writeCert(caFile, ca.certPem);
  const serving = writeCertKeyPair(dir, 'serving', await issueServerCert(ca, { commonName: 'apiserver', dnsNames: ['localhost'] }));
  if (opts.clientCertAuth) {
    writeCertKeyPair(dir, 'client-admin', await issueClientCert(ca, { commonName: 'cert-admin', organizations: ['system:masters'] }));
    writeCertKeyPair(dir, 'client-bob', await issueClientCert(ca, { commonName: 'cert-bob', organizations: ['developers'] }));
  }
  const tokenFile = join(dir, 'tokens.csv');
  const identities = tokensCsv([
    { token: DEVELOPER_TOKEN, user: DEVELOPER_USER, uid: 'developer', groups: ['system:authenticated'] },
    { token: OPERATOR_TOKEN, user: OPERATOR_USER, uid: 'operator', groups: operatorGroups() },
    { token: NODE_TOKEN, user: nodeUser('master-0'), uid: 'node-master-0', groups: ['system:nodes'] },
  ]);
  writeFileSync(tokenFile, `${ADMIN_TOKEN},admin,uid-admin,"system:masters"\n${BOB_TOKEN},bob,uid-bob,"developers,others"\n${identities}`, { mode: 0o600 });
  if (opts.encryptionConfig !== undefined) {
    opts = { ...opts, encryptionConfigFile: join(dir, 'encryption-config.yaml') };
    writeFileSync(opts.encryptionConfigFile!, opts.encryptionConfig!, { mode: 0o600 });
  }
  const [port] = await freePorts(1);
  const url = `https://127.0.0.1:${port}`;
  const configFile = join(dir, 'apiserver.yaml');
  const logFile = join(dir, 'apiserver.log');
  let base: Record<string, unknown> = {
    apiVersion: 'etcd-ops.io/v1',
    kind: 'APIServerConfig',
    nodeName: 'master-0',
    bindAddress: '127.0.0.1',
    port,
    servingCert: { certFile: serving.certFile, keyFile: serving.keyFile },
    etcd: { endpoints: [opts.etcd.clientURL], ...(opts.etcdTls ?? {}) },
    authentication: { tokenFile },
    ...(opts.clientCertAuth ? { clientCA: caFile } : {}),
    compactionInterval: opts.compactionInterval ?? 0,
    etcdRequestTimeout: '3s',
    watchBookmarkInterval: '1s',
    ...(opts.encryptionConfigFile ? { encryptionConfigFile: opts.encryptionConfigFile } : {}),
    ...(opts.maxRequestBodyBytes ? { maxRequestBodyBytes: opts.maxRequestBodyBytes } : {}),
  };
  writeFileSync(configFile, yamlConfig(base));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    yamlConfig({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority': caFile } }],
      users: [{ name: 'admin', user: { token: ADMIN_TOKEN } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin', namespace: 'default' } }],
      'current-context': 'test',
    }),
  );
  const cacheDir = join(dir, 'kube-cache');
  mkdirSync(cacheDir);

  let proc!: ChildProcess;
  const launch = async () => {
    const fd = openSync(logFile, 'a');
    proc = spawn(process.execPath, [join(ROOT, 'bin/etcd-ops.js'), 'apiserver', '--config', configFile], { cwd: ROOT, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    trackPid(proc.pid!);
    await waitFor(`the API server to be ready (log: ${logFile})`, 30_000, async () => {
      if (proc.exitCode !== null) throw new Error(`apiserver exited with ${proc.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      const r = await srv.req('GET', '/readyz', { token: null }).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, 100);
  };

  const srv: StartedAPIServer = {
    dir,
    port: port!,
    url,
    caFile,
    kubeconfig,
    configFile,
    logFile,
    get proc() {
      return proc;
    },
    kubectl(args, o = {}) {
      const extra = o.token ? ['--token', o.token] : [];
      const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...extra, ...args], {
        encoding: 'utf8',
        input: o.input,
        timeout: 60_000,
        env: { ...process.env, KUBECONFIG: kubeconfig, ...(o.env ?? {}) },
      });
      return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    req(method, path, o = {}) {
      const token = o.token === undefined ? ADMIN_TOKEN : o.token;
      const body = o.body === undefined ? undefined : typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
      return new Promise((resolveP, reject) => {
        const r = request(
          {
            host: '127.0.0.1',
            port,
            path,
            method,
            ca: readFileSync(caFile),
            ...(o.clientCert ? { cert: readFileSync(join(dir, `${o.clientCert}.crt`)), key: readFileSync(join(dir, `${o.clientCert}.key`)) } : {}),
            timeout: 20_000,
            headers: {
              ...(token ? { Authorization: `Bearer ${token}` } : {}),
              // Node sends DELETE bodies unframed unless told their length.
              ...(body !== undefined ? { 'Content-Type': o.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
              ...(o.headers ?? {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {}
              resolveP({ status: res.statusCode ?? 0, headers: res.headers, text, json });
            });
          },
        );
        r.on('timeout', () => r.destroy(new Error(`request ${method} ${path} timed out`)));
        r.on('error', reject);
        if (body !== undefined) r.write(body);
        r.end();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        untrackPid(proc.pid!);
        return proc.exitCode;
      }
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      untrackPid(proc.pid!);
      return code;
    },
    async restart(extraConfig = {}) {
      await srv.stop();
      // Changes accumulate: a later restart keeps an earlier one's encryption config.
      base = { ...base, ...extraConfig };
      writeFileSync(configFile, yamlConfig(base));
      await launch();
    },
  };
  await launch();
  return srv;
}
