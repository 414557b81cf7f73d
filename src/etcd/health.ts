import { describeEtcdError, withClient, type Connection } from './connection.js';

export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  tookMs: number;
  error?: string;
}

/**
 * What `etcdctl endpoint health` (3.4) checks: a linearizable read of the key "health" goes
 * through raft (a permission-denied answer proves that too), and then any raised alarm
 * makes the member unhealthy.
 */
export async function endpointHealth(conn: Connection, endpoint: string): Promise<EndpointHealth> {
  const start = performance.now();
  try {
    await withClient(conn, [endpoint], async (c) => {
      try {
        await c.get('health').string();
      } catch (err) {
        if (!/permission denied/i.test((err as Error).message)) throw err;
      }
      const alarms = await c.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
      if (alarms.alarms.length > 0) {
        throw new Error(`Active Alarm(s): ${[...new Set(alarms.alarms.map((a) => a.alarm))].join(', ')}`);
      }
    });
    return { endpoint, health: true, tookMs: performance.now() - start };
  } catch (err) {
    const msg = (err as Error).message?.startsWith('Active Alarm') ? (err as Error).message : `failed to commit proposal: ${describeEtcdError(err, conn)}`;
    return { endpoint, health: false, tookMs: performance.now() - start, error: msg };
  }
}

export async function endpointHealths(conn: Connection, endpoints = conn.endpoints): Promise<EndpointHealth[]> {
  return Promise.all(endpoints.map((e) => endpointHealth(conn, e)));
}
