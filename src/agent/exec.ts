/**
 * Runs one `kubectl exec` command in a container's context (its environment and working directory,
 * the host's network namespace that the agent itself runs in) and carries its streams over the
 * remote-command WebSocket. A terminal (tty) comes from node-pty, so shells, line editing and
 * resizes behave as in a real container.
 */
import { spawn } from 'node:child_process';
import type { WebSocket } from 'ws';
import { CHANNEL, exitStatus, frame, parseClientMessage, startFailure, type ClientMessage, type ExecOptions } from './remotecommand.js';

export interface ExecContext {
  env: Record<string, string>;
  cwd: string;
}

export async function runExec(ws: WebSocket, protocol: string, o: ExecOptions, ctx: ExecContext, log: (l: string) => void): Promise<void> {
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(frame(channel, data));
  };
  let finished = false;
  const finish = (status: object) => {
    if (finished) return; // a failed start reports 'error' and then 'close'
    finished = true;
    send(CHANNEL.error, JSON.stringify(status));
    ws.close(1000);
  };
  const env = { TERM: o.tty ? 'xterm' : 'dumb', ...ctx.env };
  log(`exec ${JSON.stringify(o.command)}${o.tty ? ' (tty)' : ''}`);
  // A client sends its terminal size (and may type) right after the handshake, before the
  // command runs: keep those messages until something can take them.
  const early: ClientMessage[] = [];
  let deliver: (m: ClientMessage) => void = (m) => void early.push(m);
  ws.on('message', (m: Buffer) => deliver(parseClientMessage(m, protocol)));
  const startDelivery = (to: (m: ClientMessage) => void) => {
    deliver = to;
    for (const m of early.splice(0)) to(m);
  };

  if (o.tty) {
    const pty = await import('node-pty');
    let term: import('node-pty').IPty;
    try {
      term = pty.spawn(o.command[0]!, o.command.slice(1), { name: 'xterm', cols: 80, rows: 24, cwd: ctx.cwd, env });
    } catch (err) {
      finish(startFailure(`failed to exec in container: ${(err as Error).message}`));
      return;
    }
    term.onData((d) => o.stdout && send(CHANNEL.stdout, d));
    startDelivery((msg) => {
      if (msg.kind === 'stdin' && o.stdin) term.write(msg.data.toString('utf8'));
      else if (msg.kind === 'resize') term.resize(msg.cols, msg.rows);
      // A terminal has no half-close: end of input is ^D, as a terminal user would type it.
      else if (msg.kind === 'close' && msg.channel === CHANNEL.stdin) term.write('\x04');
    });
    ws.on('close', () => term.kill('SIGHUP'));
    await new Promise<void>((resolve) =>
      term.onExit(({ exitCode, signal }) => {
        // Let the last output reach the socket before the status closes it.
        setTimeout(() => {
          finish(exitStatus(signal ? 128 + signal : exitCode, o.command));
          resolve();
        }, 20);
      }),
    );
    return;
  }

  const child = spawn(o.command[0]!, o.command.slice(1), { cwd: ctx.cwd, env, stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => o.stdout && send(CHANNEL.stdout, d));
  child.stderr!.on('data', (d: Buffer) => o.stderr && send(CHANNEL.stderr, d));
  child.stdin?.on('error', () => {}); // the command may exit without reading its input
  startDelivery((msg) => {
    if (msg.kind === 'stdin' && child.stdin?.writable) child.stdin.write(msg.data);
    else if (msg.kind === 'close' && msg.channel === CHANNEL.stdin) child.stdin?.end();
  });
  // The client went away: the command goes too, as with a runtime's exec session.
  ws.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  await new Promise<void>((resolve) => {
    child.once('error', (err) => {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? `exec: "${o.command[0]}": executable file not found in $PATH` : e.message;
      finish(startFailure(`failed to exec in container: ${why}`));
      resolve();
    });
    // 'close' waits for stdout and stderr to drain, so every byte precedes the status.
    child.once('close', (code, signal) => {
      finish(exitStatus(code ?? 128 + (signal ? signalNumber(signal) : 0), o.command));
      resolve();
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig] ?? 0;
}
