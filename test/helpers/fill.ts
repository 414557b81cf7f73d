import { Etcd3 } from 'etcd3';

/**
 * Writes `count` values of `size` bytes under `prefix`, then optionally deletes them: after a
 * compaction, the deleted values are free pages, i.e. fragmentation that a defrag reclaims.
 */
export async function fill(endpoints: string, opts: { prefix: string; count: number; size: number; del?: boolean; concurrency?: number }): Promise<void> {
  const client = new Etcd3({ hosts: endpoints.split(',') });
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
