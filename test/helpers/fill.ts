import { createEtcdClient } from '../../src/etcd/client.js';
import type { Connection } from '../../src/etcd/endpoints.js';

/** A plain endpoint list, or a home's connection (with its TLS). */
export type Members = string | Connection;
export function clientFor(m: Members) {
  const conn = typeof m === 'string' ? { endpoints: m.split(','), tls: undefined } : m;
  return createEtcdClient({ endpoints: conn.endpoints, tls: conn.tls, dialTimeoutMs: 5000, faults: 'patient' });
}

/**
 * Writes `count` values of `size` bytes under `prefix`, then optionally deletes them: after a
 * compaction, the deleted values are free pages, i.e. fragmentation that a defrag reclaims.
 */
export async function fill(endpoints: Members, opts: { prefix: string; count: number; size: number; del?: boolean; concurrency?: number }): Promise<void> {
  const client = clientFor(endpoints);
  try {
    const value = Buffer.alloc(opts.size, 'x');
    const step = opts.concurrency ?? 32;
    for (let i = 0; i < opts.count; i += step) {
      await Promise.all(Array.from({ length: Math.min(step, opts.count - i) }, (_, j) => client.put(`${opts.prefix}${i + j}`).value(value)));
    }
    if (opts.del) await client.delete().prefix(opts.prefix);
  } finally {
    client.close();
  }
}
