/**
 * Kubernetes' remote-command protocol over WebSocket, as the kubelet speaks it for `kubectl exec`:
 * every binary message starts with a channel byte. v4 ends the error channel with a Status; v5
 * adds the CLOSE signal ([255, channel]) so a client can end stdin without closing the socket.
 * Pure: framing, options and Status objects, no I/O.
 */
import { queryBool } from './query.js';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
/** Newest first: the first protocol a client offers that we know is the one we speak. */
export const SUPPORTED_PROTOCOLS = [V5, V4] as const;

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export function negotiate(offered: Iterable<string>): string | undefined {
  const set = new Set(offered);
  return SUPPORTED_PROTOCOLS.find((p) => set.has(p));
}

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

export type ClientMessage =
  | { kind: 'stdin'; data: Buffer }
  | { kind: 'resize'; cols: number; rows: number }
  | { kind: 'close'; channel: number }
  | { kind: 'ignored'; why: string };

/** What a client sent: stdin bytes, a terminal size, or (v5) the end of a stream. */
export function parseClientMessage(msg: Buffer, protocol: string): ClientMessage {
  if (msg.length === 0) return { kind: 'ignored', why: 'empty message' };
  const channel = msg[0]!;
  const data = msg.subarray(1);
  if (channel === CHANNEL.stdin) return { kind: 'stdin', data };
  if (channel === CHANNEL.resize) {
    try {
      const size = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
      const cols = Number(size.Width);
      const rows = Number(size.Height);
      if (Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols < 65536 && rows < 65536) return { kind: 'resize', cols, rows };
    } catch {}
    return { kind: 'ignored', why: 'a resize message that is not {"Width":N,"Height":N}' };
  }
  if (channel === CHANNEL.close && protocol === V5 && data.length === 1) return { kind: 'close', channel: data[0]! };
  return { kind: 'ignored', why: `a message on channel ${channel}` };
}

export interface ExecOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** PodExecOptions from the query, validated as the API server validates them. */
export function parseExecOptions(q: URLSearchParams): ExecOptions {
  const o: ExecOptions = { command: q.getAll('command'), stdin: queryBool(q, 'stdin'), stdout: queryBool(q, 'stdout'), stderr: queryBool(q, 'stderr'), tty: queryBool(q, 'tty') };
  if (o.command.length === 0 || o.command[0] === '') throw new Error('you must specify at least 1 command');
  if (!o.stdin && !o.stdout && !o.stderr) throw new Error('you must specify at least 1 of stdin, stdout, stderr');
  if (o.tty && o.stderr) throw new Error('stderr and tty cannot both be true: a terminal merges them');
  return o;
}

/** The Status the error channel carries when the command ends, as client-go's v4 decoder expects. */
export function exitStatus(code: number, command: string[]): object {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A failure before the command ran (not found, not executable): an InternalError, as CRI reports it. */
export function startFailure(message: string): object {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}
