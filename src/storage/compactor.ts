/**
 * History compaction shared by several API servers, as kube-apiserver's compactor does it
 * (k8s.io/apiserver/pkg/storage/etcd3/compact.go): every interval each server tries a CAS on the
 * *version* of `compact_rev_key`. The winner stores the revision it saw at the previous interval
 * and compacts to it, so one interval of history is always kept. Physical compaction is off.
 */
import type { Etcd3 } from 'etcd3';
import { COMPACT_REV_KEY } from '../etcd/own-keys.js';

export { COMPACT_REV_KEY };

export interface CompactState {
  /** The version of compact_rev_key this server expects (kube's "compactTime"). */
  time: number;
  /** The revision seen at the previous interval, to compact to now. */
  rev: number;
}

export interface CompactResult extends CompactState {
  /** The revision compacted to by this server in this step, if it did. */
  compacted?: number;
  error?: Error;
}

/** One step of the loop. */
export async function compactOnce(client: Etcd3, state: CompactState, timeoutMs: number): Promise<CompactResult> {
  const key = Buffer.from(COMPACT_REV_KEY);
  const opts = () => ({ deadline: Date.now() + timeoutMs });
  const r = await client.kv.txn(
    {
      compare: [{ key, target: 'Version', result: 'Equal', version: state.time }],
      success: [{ request_put: { key, value: Buffer.from(String(state.rev)) } }],
      failure: [{ request_range: { key } }],
    },
    opts(),
  );
  const curRev = Number(r.header.revision);
  if (!r.succeeded) {
    const kv = r.responses[0]?.response_range?.kvs[0];
    return { time: kv ? Number(kv.version) : 0, rev: curRev };
  }
  if (state.rev === 0) return { time: state.time + 1, rev: curRev }; // nothing to compact on the first step
  try {
    await client.kv.compact({ revision: state.rev, physical: false }, opts());
  } catch (err) {
    // The CAS is won either way: move on to the next interval, and tell the caller.
    return { time: state.time + 1, rev: curRev, error: err as Error };
  }
  return { time: state.time + 1, rev: curRev, compacted: state.rev };
}

export interface Compactor {
  stop(): void;
}

export function startCompactor(
  client: Etcd3,
  intervalMs: number,
  timeoutMs: number,
  log: (msg: string) => void,
): Compactor {
  let state: CompactState = { time: 0, rev: 0 };
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const next = await compactOnce(client, state, timeoutMs);
      if (next.compacted !== undefined) log(`compacted etcd history to revision ${next.compacted}`);
      // Someone (an operator with etcdctl) compacted further already: not a failure.
      if (next.error && !/required revision has been compacted/.test(next.error.message)) log(`compaction failed: ${next.error.message}`);
      state = { time: next.time, rev: next.rev };
    } catch (err) {
      // The CAS itself failed (etcd unreachable): keep the state and try again next interval, as kube does.
      log(`compaction failed: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  };
  const t = setInterval(() => void tick(), intervalMs);
  t.unref();
  void tick();
  return { stop: () => clearInterval(t) };
}
