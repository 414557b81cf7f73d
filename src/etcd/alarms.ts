import { withClient, type Connection } from './connection.js';
import { big } from './ids.js';

export interface Alarm {
  memberID: bigint;
  alarm: string;
}

export async function listAlarms(conn: Connection): Promise<Alarm[]> {
  return withClient(conn, conn.endpoints, async (c) => {
    const r = await c.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
    return r.alarms.map((a) => ({ memberID: big(a.memberID), alarm: String(a.alarm) }));
  });
}

/** Disarms every raised alarm, as `etcdctl alarm disarm` does; returns what was disarmed. */
export async function disarmAlarms(conn: Connection): Promise<Alarm[]> {
  return withClient(conn, conn.endpoints, async (c) => {
    const raised = await c.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
    const out: Alarm[] = [];
    for (const a of raised.alarms) {
      const r = await c.maintenance.alarm({ action: 'Deactivate', memberID: a.memberID, alarm: a.alarm });
      out.push(...r.alarms.map((x) => ({ memberID: big(x.memberID), alarm: String(x.alarm) })));
    }
    return out;
  });
}
