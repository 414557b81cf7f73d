import { memberIdHex } from '../../etcd/ids.js';
import type { MemberList } from '../../etcd/members.js';
import { stringifyBig } from '../../util/bigjson.js';
import { etcdctlTable } from '../../util/table.js';

export function printMemberList(list: MemberList, format: string): string {
  // A member that has not started yet has no name, and etcdctl calls it "unstarted".
  const rows = list.members.map((m) => [
    memberIdHex(m.id),
    m.name ? 'started' : 'unstarted',
    m.name,
    m.peerURLs.join(','),
    m.clientURLs.join(','),
    String(m.isLearner),
  ]);
  if (format === 'json') {
    return stringifyBig({
      header: list.header,
      members: list.members.map((m) => ({
        ID: m.id,
        ...(m.name ? { name: m.name } : {}),
        peerURLs: m.peerURLs,
        ...(m.clientURLs.length ? { clientURLs: m.clientURLs } : {}),
        ...(m.isLearner ? { isLearner: true } : {}),
      })),
    }) + '\n';
  }
  if (format === 'table') return etcdctlTable(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], rows) + '\n';
  return rows.map((r) => r.join(', ') + '\n').join('');
}
