import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdBinaries } from '../../src/etcd/binaries.js';
import { freePorts } from '../../src/util/ports.js';
import { waitFor } from '../../src/util/time.js';
import { trackPid, trackTempDir, untrackPid } from './cleanup.js';

export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface StartedEtcd {
  name: string;
  dataDir: string;
  clientURL: string;
  peerURL: string;
  proc: ChildProcess;
  /** etcdctl arguments that reach this member (endpoints and TLS flags). */
  ctlArgs: string[];
  stop(): Promise<void>;
}

export const bins = etcdBinaries();

/**
 * Starts one real etcd member on free loopback ports in a temp dir and waits until it is healthy.
 * The process is killed at test-process exit even if the test forgets to stop it.
 */
export async function startEtcd(opts: { dataDir?: string; tls?: TlsFiles; extraArgs?: string[]; name?: string } = {}): Promise<StartedEtcd> {
  let dataDir = opts.dataDir;
  if (dataDir === undefined) {
    const tmp = mkdtempSync(join(tmpdir(), 'etcd-ops-test-'));
    trackTempDir(tmp);
    dataDir = join(tmp, 'data');
  }
  const name = opts.name ?? 'default';
  const [cport, pport] = await freePorts(2);
  const scheme = opts.tls ? 'https' : 'http';
  const clientURL = `${scheme}://127.0.0.1:${cport}`;
  const peerURL = `http://127.0.0.1:${pport}`;
  const tlsArgs = opts.tls
    ? ['--cert-file', opts.tls.serverCert, '--key-file', opts.tls.serverKey, '--client-cert-auth', '--trusted-ca-file', opts.tls.ca]
    : [];
  const logPath = `${dataDir}.log`;
  const logFd = openSync(logPath, 'a');
  const proc = spawn(
    bins.etcd,
    [
      '--name', name, '--data-dir', dataDir,
      '--listen-client-urls', clientURL, '--advertise-client-urls', clientURL,
      '--listen-peer-urls', peerURL, '--initial-advertise-peer-urls', peerURL,
      '--initial-cluster', `${name}=${peerURL}`,
      ...tlsArgs, ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  trackPid(proc.pid!);
  const ctlArgs = ['--endpoints', clientURL, ...(opts.tls ? ['--cacert', opts.tls.ca, '--cert', opts.tls.clientCert, '--key', opts.tls.clientKey] : [])];
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    untrackPid(proc.pid!);
  };
  try {
    await waitFor(`etcd at ${clientURL} to be healthy (log: ${logPath})`, 20_000, () => {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}; see ${logPath}`);
      const r = spawnSync(bins.etcdctl, [...ctlArgs, '--command-timeout', '2s', 'endpoint', 'health'], { encoding: 'utf8' });
      return r.status === 0 ? true : undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { name, dataDir, clientURL, peerURL, proc, ctlArgs, stop };
}

/** Runs etcdctl against a member; returns stdout, throws with stderr on failure. */
export function etcdctl(member: { ctlArgs: string[] }, args: string[], input?: string | Buffer): string {
  const r = spawnSync(bins.etcdctl, [...member.ctlArgs, ...args], { encoding: 'utf8', input, env: { ...process.env, ETCDCTL_API: '3' } });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
