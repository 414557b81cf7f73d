import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from '../util/errors.js';

/** Finds an executable on PATH, like `command -v`. */
export function which(name: string): string | undefined {
  if (name.includes('/')) return canExec(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir || '.', name);
    if (canExec(p)) return p;
  }
  return undefined;
}

function canExec(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface EtcdBinaries {
  etcd: string;
  etcdctl: string;
}

function lookup(): { etcd?: string; etcdctl?: string } {
  return {
    etcd: process.env.ETCD_BIN ? which(process.env.ETCD_BIN) : which('etcd'),
    etcdctl: process.env.ETCDCTL_BIN ? which(process.env.ETCDCTL_BIN) : which('etcdctl'),
  };
}

/**
 * The etcd and etcdctl binaries to run: ETCD_BIN / ETCDCTL_BIN, else PATH.
 * When they are missing and we may install (root with apt), installs Debian's etcd 3.4.
 */
export function etcdBinaries(opts: { install?: boolean; log?: (line: string) => void } = {}): EtcdBinaries {
  let found = lookup();
  if ((!found.etcd || !found.etcdctl) && opts.install) {
    if (process.env.ETCD_BIN && !found.etcd) throw new UserError(`ETCD_BIN=${process.env.ETCD_BIN} is not an executable: fix or unset it`);
    if (process.env.ETCDCTL_BIN && !found.etcdctl) throw new UserError(`ETCDCTL_BIN=${process.env.ETCDCTL_BIN} is not an executable: fix or unset it`);
    installFromApt(opts.log ?? (() => {}));
    found = lookup();
  }
  if (!found.etcd) throw new UserError('etcd is not installed: run `npm start` as root (installs Debian etcd-server), or set ETCD_BIN');
  if (!found.etcdctl) throw new UserError('etcdctl is not installed: run `npm start` as root (installs Debian etcd-client), or set ETCDCTL_BIN');
  return { etcd: found.etcd, etcdctl: found.etcdctl };
}

function installFromApt(log: (line: string) => void): void {
  if (process.getuid?.() !== 0 || !which('apt-get')) return;
  log('etcd is missing: installing Debian etcd-server and etcd-client (3.4) with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'etcd-server', 'etcd-client'], { stdio: 'ignore', env });
  if (r.status !== 0) throw new UserError('apt-get install etcd-server etcd-client failed: install etcd 3.4 by hand, or set ETCD_BIN/ETCDCTL_BIN');
}

export function etcdVersion(etcdBin: string): string {
  const out = execFileSync(etcdBin, ['--version'], { encoding: 'utf8' });
  return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? 'unknown';
}
