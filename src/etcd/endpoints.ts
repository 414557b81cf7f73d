import { readFileSync } from 'node:fs';
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
