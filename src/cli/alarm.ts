import type { Command } from 'commander';
import { connectionOptions, resolveTarget, type ConnectionFlags } from './connection.js';
import { UserError } from '../util/errors.js';
import type { Alarm } from '../etcd/alarms.js';

const line = (a: Alarm) => `memberID:${a.memberID} alarm:${a.alarm}\n`;

export function register(program: Command): void {
  const alarm = program.command('alarm').description('etcd alarms (NOSPACE, CORRUPT)');
  connectionOptions(alarm.command('list').description('lists raised alarms')).action(async (flags: ConnectionFlags) => {
    const target = resolveTarget(flags);
    const { listAlarms } = await import('../etcd/alarms.js');
    const alarms = await call(target.conn, () => listAlarms(target.conn));
    process.stdout.write(alarms.map(line).join(''));
  });
  connectionOptions(alarm.command('disarm').description('disarms every raised alarm')).action(async (flags: ConnectionFlags) => {
    const target = resolveTarget(flags);
    const { disarmAlarms } = await import('../etcd/alarms.js');
    const alarms = await call(target.conn, () => disarmAlarms(target.conn));
    process.stdout.write(alarms.map(line).join(''));
  });
}

async function call<T>(conn: import('../etcd/connection.js').Connection, fn: () => Promise<T>): Promise<T> {
  const { describeEtcdError } = await import('../etcd/connection.js');
  try {
    return await fn();
  } catch (err) {
    throw new UserError(`etcd at ${conn.endpoints.join(',')} did not answer: ${describeEtcdError(err, conn)}`);
  }
}
