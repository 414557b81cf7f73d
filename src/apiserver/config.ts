/** The API server's configuration file (YAML), validated with zod into one clear error. */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../util/errors.js';
import { parseDuration } from '../util/duration.js';

const absPath = z.string().min(1).refine(isAbsolute, { message: 'must be an absolute path' });
const endpoint = z.string().regex(/^https?:\/\/[^/\s]+\/?$/, { message: 'must be a URL like http://127.0.0.1:2379 or https://host:2379' });

const schema = z.strictObject({
  apiVersion: z.literal('etcd-ops.io/v1'),
  kind: z.literal('APIServerConfig'),
  nodeName: z.string().min(1).default('localhost'),
  bindAddress: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
  servingCert: z.strictObject({ certFile: absPath, keyFile: absPath }),
  clientCA: absPath.optional(),
  etcd: z.strictObject({
    endpoints: z.array(endpoint).min(1),
    caFile: absPath.optional(),
    certFile: absPath.optional(),
    keyFile: absPath.optional(),
  }),
  authentication: z.strictObject({ tokenFile: absPath }),
  /** How to reach the agents' kubelet API for pods/exec and pods/log; without it those answer 503. */
  kubeletClient: z.strictObject({ cert: absPath, key: absPath, ca: absPath }).optional(),
  encryptionConfigFile: absPath.optional(),
  compactionInterval: z.union([z.string(), z.literal(0)]).default('5m'),
  maxRequestBodyBytes: z.number().int().positive().default(3 * 1024 * 1024),
  /** Deadline of each etcd call: requests fail with 504/503 rather than hang. */
  etcdRequestTimeout: z.string().default('10s'),
  shutdownGracePeriod: z.string().default('5s'),
  /** How often watches that allow bookmarks get one (kube-apiserver: about a minute). */
  watchBookmarkInterval: z.string().default('1m'),
});

export type APIServerConfigFile = z.infer<typeof schema>;

export interface APIServerConfig extends Omit<APIServerConfigFile, 'compactionInterval' | 'etcdRequestTimeout' | 'shutdownGracePeriod' | 'watchBookmarkInterval'> {
  compactionIntervalMs: number;
  watchBookmarkIntervalMs: number;
  etcdRequestTimeoutMs: number;
  shutdownGraceMs: number;
}

function issuePath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

export function parseAPIServerConfig(text: string, source = 'config'): APIServerConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new UserError(`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = schema.safeParse(raw ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    const where = issuePath(i.path);
    throw new UserError(`${source}: ${where ? `${where}: ` : ''}${i.message}`);
  }
  const c = r.data;
  if ((c.etcd.certFile === undefined) !== (c.etcd.keyFile === undefined)) throw new UserError(`${source}: etcd.certFile and etcd.keyFile go together: give both or neither`);
  if (c.etcd.endpoints.some((e) => e.startsWith('https://')) && !c.etcd.caFile) throw new UserError(`${source}: etcd.caFile is required for https endpoints`);
  const interval = c.compactionInterval === 0 ? 0 : parseDuration(c.compactionInterval, 'compactionInterval');
  const { compactionInterval: _c, etcdRequestTimeout, shutdownGracePeriod, watchBookmarkInterval, ...rest } = c;
  return {
    ...rest,
    compactionIntervalMs: interval,
    etcdRequestTimeoutMs: parseDuration(etcdRequestTimeout, 'etcdRequestTimeout'),
    shutdownGraceMs: parseDuration(shutdownGracePeriod, 'shutdownGracePeriod'),
    watchBookmarkIntervalMs: Math.max(100, parseDuration(watchBookmarkInterval, 'watchBookmarkInterval')),
  };
}

export function loadAPIServerConfig(path: string): APIServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the API server config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseAPIServerConfig(text, path);
}
