import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ReadinessProbe } from '../staticpod/pod.js';

/**
 * One probe, judged as the kubelet judges it: httpGet is ready on a 2xx or 3xx answer, exec on exit
 * status 0, both within the timeout. An exec probe runs with the container's environment.
 */
export function probeOnce(p: ReadinessProbe, env: Record<string, string> = {}): Promise<boolean> {
  if (p.exec) return execProbe(p.exec.command, p.timeoutSeconds * 1000, env);
  const g = p.httpGet!;
  return new Promise((resolve) => {
    const send = g.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    const req = send({ host: g.host, port: g.port, path: g.path, timeout: p.timeoutSeconds * 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function execProbe(command: string[], timeoutMs: number, env: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { env, stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}
