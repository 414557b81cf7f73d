import { withAnyEndpoint, type Connection } from './connection.js';
import { big } from './ids.js';

export interface Alarm {
  memberID: bigint;
  alarm: string;
}

/** etcd3 names alarms by its enum keys (Nospace); etcd and etcdctl say NOSPACE. */
const etcdName = (a: unknown) => String(a).toUpperCase();

export async function listAlarms(conn: Connection): Promise<Alarm[]> {
  return withAnyEndpoint(conn, async (c) => {
    const r = await c.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
    return r.alarms.map((a) => ({ memberID: big(a.memberID), alarm: etcdName(a.alarm) }));
  });
}

/** Disarms every raised alarm, as `etcdctl alarm disarm` does; returns what was disarmed. */
export async function disarmAlarms(conn: Connection): Promise<Alarm[]> {
  return withAnyEndpoint(conn, async (c) => {
    const raised = await c.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' });
    const out: Alarm[] = [];
    for (const a of raised.alarms) {
      const r = await c.maintenance.alarm({ action: 'Deactivate', memberID: a.memberID, alarm: a.alarm });
      out.push(...r.alarms.map((x) => ({ memberID: big(x.memberID), alarm: etcdName(x.alarm) })));
    }
    return out;
  });
}
