import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ReadinessProbe } from '../staticpod/pod.js';

/** One httpGet probe: ready on a 2xx or 3xx answer within the timeout, as the kubelet judges. */
export function probeOnce(p: ReadinessProbe): Promise<boolean> {
  const g = p.httpGet;
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
