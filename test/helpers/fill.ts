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

/** Writes until etcd refuses with NOSPACE; returns how many values went in. */
export async function fillUntilNoSpace(endpoints: string, prefix: string, size: number, max = 100_000): Promise<number> {
  const client = new Etcd3({ hosts: endpoints.split(',') });
  const value = Buffer.alloc(size, 'y');
  try {
    for (let i = 0; i < max; i += 16) {
      try {
        await Promise.all(Array.from({ length: 16 }, (_, j) => client.put(`${prefix}${i + j}`).value(value)));
      } catch (err) {
        if (/database space exceeded/.test((err as Error).message)) return i;
        throw err;
      }
    }
    throw new Error(`etcd took ${max} values without raising NOSPACE`);
  } finally {
    client.close();
  }
}
