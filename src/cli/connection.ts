import { InvalidArgumentError, Option, type Command } from 'commander';
import { etcdUsesTls, loadClusterFile, type ClusterFile } from '../home/cluster-file.js';
import { etcdPki, resolveHome } from '../home/layout.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_DIAL_TIMEOUT_MS,
  parseEndpoints,
  readTls,
  type Connection,
} from '../etcd/endpoints.js';
import { formatDuration, parseDuration } from '../util/duration.js';

export interface ConnectionFlags {
  home?: string;
  endpoints?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  commandTimeout: number;
  dialTimeout: number;
}

/** A commander parser for Go-style durations; a bad value fails before anything runs. */
export function durationArg(flag: string) {
  return (v: string) => {
    try {
      return parseDuration(v, flag);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(/^.*? is not a duration: /, 'not a duration: '));
    }
  };
}

/** A duration flag; its default shows in --help as a duration ("default: 1m"), never as milliseconds. */
export function durationOption(flags: string, description: string, defaultMs?: number): Option {
  const option = new Option(flags, description).argParser(durationArg(flags.split(/[ ,]/)[0]!));
  return defaultMs === undefined ? option : option.default(defaultMs, formatDuration(defaultMs));
}

export function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return Number(v);
  };
}

export function homeOption(cmd: Command): Command {
  return cmd.option('--home <dir>', 'the local control plane home (default: $ETCD_OPS_HOME or ~/.etcd-ops)');
}

/** The flags every cluster command shares with etcdctl. */
export function connectionOptions(cmd: Command, o: { commandTimeoutMs?: number } = {}): Command {
  const timeout = o.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return homeOption(cmd)
    .option('--endpoints <urls>', 'comma-separated etcd endpoints of any cluster (instead of the home)')
    .option('--cacert <file>', 'verify servers with this CA bundle')
    .option('--cert <file>', 'client certificate for TLS client auth')
    .option('--key <file>', 'client key for TLS client auth')
    .addOption(durationOption('--command-timeout <duration>', 'timeout for each request', timeout))
    .addOption(durationOption('--dial-timeout <duration>', 'timeout for connecting', DEFAULT_DIAL_TIMEOUT_MS));
}

export function writeOutOption(cmd: Command, formats: string[], def: string): Command {
  return cmd.addOption(new Option('-w, --write-out <format>', 'output format').choices(formats).default(def));
}

export interface Target {
  conn: Connection;
  /** Set when the command works on a local home rather than --endpoints. */
  home?: string;
  cluster?: ClusterFile;
}

export function resolveTarget(flags: ConnectionFlags): Target {
  const tls = readTls(flags);
  const base = { tls, commandTimeoutMs: flags.commandTimeout, dialTimeoutMs: flags.dialTimeout };
  if (flags.endpoints !== undefined) {
    return { conn: { ...base, endpoints: parseEndpoints(flags.endpoints, tls !== undefined) } };
  }
  const home = resolveHome(flags.home);
  const cluster = loadClusterFile(home);
  return { conn: { ...base, tls: tls ?? homeEtcdTls(home, cluster), endpoints: cluster.hosts.map((h) => h.clientURL) }, home, cluster };
}

/** A home's members want the home's `etcd-client` certificate; homes from before mutual TLS want none. */
export function homeEtcdTls(home: string, cluster: ClusterFile): Connection['tls'] {
  if (!etcdUsesTls(cluster)) return undefined;
  const p = etcdPki(home);
  return readTls({ cacert: p.caCert, cert: p.clientCert, key: p.clientKey });
}

export function nameOfEndpoint(target: Target, endpoint: string): string | undefined {
  return target.cluster?.hosts.find((h) => h.clientURL === endpoint)?.name;
}

export function requireHome(flags: { home?: string }): { home: string; cluster: ClusterFile } {
  const home = resolveHome(flags.home);
  return { home, cluster: loadClusterFile(home) };
}

