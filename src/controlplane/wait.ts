import { request } from 'node:https';
import { unsettled } from '../backup/operators.js';
import { readOperatorStates } from '../backup/read-operators.js';
import type { Connection } from '../etcd/connection.js';
import { endpointHealths, type EndpointHealth } from '../etcd/health.js';
import { UserError } from '../util/errors.js';
import { sleep } from '../util/time.js';

/** Waits until an API server answers /readyz through the load balancer. */
export async function waitApiReady(url: string, ca: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const code = await new Promise<number>((resolve) => {
      const req = request(`${url}/readyz`, { ca, servername: 'localhost', timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', (err) => {
        last = err.message;
        resolve(0);
      });
      req.end();
    });
    if (code === 200) return;
    if (code) last = `HTTP ${code}`;
    if (Date.now() > deadline) throw new UserError(`the API server at ${url} is not ready after ${Math.round(timeoutMs / 1000)}s (${last}); see the hosts' var/log/pods`);
    await sleep(250);
  }
}

/** Waits until every member commits a proposal, within the timeout; then the unhealthy ones are named. */
export async function waitHealthy(conn: Connection, timeoutMs: number): Promise<EndpointHealth[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await endpointHealths({ ...conn, commandTimeoutMs: Math.min(conn.commandTimeoutMs, 2000) });
    if (rows.every((r) => r.health)) return rows;
    if (Date.now() > deadline) {
      const bad = rows.filter((r) => !r.health);
      throw new UserError(`members not healthy after ${Math.round(timeoutMs / 1000)}s: ${bad.map((b) => `${b.endpoint} (${b.error})`).join('; ')}; see the hosts' var/log`);
    }
    await sleep(250);
  }
}

/**
 * Waits until the operators have settled (see unsettled()); returns what is still unsettled when
 * the time is up, so `up` can say so rather than fail: the cluster itself is healthy by then.
 */
export async function waitSettled(conn: Connection, nodeNames: string[], timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let why: string | undefined = 'the operator objects could not be read yet';
  for (;;) {
    try {
      const states = await readOperatorStates(conn);
      why = states.length ? unsettled(states, nodeNames) : 'no operator has reported yet';
      if (!why) return undefined;
    } catch (err) {
      why = `cannot read the operators' status: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) return why;
    await sleep(250);
  }
}
