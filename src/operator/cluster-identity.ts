import type { Connection } from '../etcd/endpoints.js';
import { memberList } from '../etcd/members.js';
import { sleep } from '../util/time.js';

/**
 * A restore gives etcd a new cluster ID. What the operator holds from before (its election
 * campaign's watch, now cancelled by the compaction a revision bump marks) would wait forever,
 * so a replica that sees the ID change exits, and the kubelet starts it afresh.
 */
export async function exitOnNewCluster(conn: Connection, log: (l: string) => void, exit: () => void, everyMs = 3000): Promise<void> {
  let first: bigint | undefined;
  for (;;) {
    try {
      const id = (await memberList(conn)).header.cluster_id;
      if (first === undefined) first = id;
      else if (id !== first) {
        log(`etcd cluster ID changed from ${first.toString(16)} to ${id.toString(16)} (a restore): restarting`);
        exit();
        return;
      }
    } catch {
      // No member answers now: the next round asks again.
    }
    await sleep(everyMs);
  }
}
