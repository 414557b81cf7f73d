import type { Command } from 'commander';
import { connectionOptions, resolveTarget, writeOutOption, type ConnectionFlags } from './connection.js';
import { UserError } from '../util/errors.js';

export function register(program: Command): void {
  const member = program.command('member').description('etcd cluster membership');
  writeOutOption(connectionOptions(member.command('list').description('lists members, as etcdctl member list')), ['simple', 'table', 'json'], 'simple').action(
    async (flags: ConnectionFlags & { writeOut: string }) => {
      const target = resolveTarget(flags);
      const { memberList } = await import('../etcd/members.js');
      const { describeEtcdError } = await import('../etcd/connection.js');
      const { printMemberList } = await import('./printers/member.js');
      let list;
      try {
        list = await memberList(target.conn);
      } catch (err) {
        throw new UserError(`no endpoint answered (${target.conn.endpoints.join(',')}): ${describeEtcdError(err, target.conn)}`);
      }
      process.stdout.write(printMemberList(list, flags.writeOut));
    },
  );
}
