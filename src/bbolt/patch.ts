/**
 * Changes to apply while copying a database: puts into buckets (replacing a value, or adding
 * a key) and nested buckets to patch or create. Merged into the source's key-ordered stream,
 * so a rewrite stays a single streaming pass. Pure.
 */
import type { BucketSource, SourceEntry } from './writer.js';

export interface BucketPatch {
  puts?: Array<{ key: Uint8Array; value: Uint8Array }>;
  /** Nested buckets to change; a missing one is created (sequence 0). */
  buckets?: Array<{ name: Uint8Array; patch: BucketPatch }>;
}

type Item = { key: Uint8Array; value: Uint8Array; patch?: undefined } | { key: Uint8Array; value?: undefined; patch: BucketPatch };

const EMPTY: BucketSource = {
  sequence: 0n,
  entries: () => [],
};

/** `src` with `patch` applied (src undefined: a new, empty bucket). */
export function patchBucket(src: BucketSource | undefined, patch: BucketPatch | undefined, what = 'the root bucket'): BucketSource {
  const base = src ?? EMPTY;
  if (!patch) return base;
  const items: Item[] = [...(patch.puts ?? []).map((p) => ({ key: p.key, value: p.value })), ...(patch.buckets ?? []).map((b) => ({ key: b.name, patch: b.patch }))];
  items.sort((a, b) => Buffer.compare(a.key, b.key));
  for (let i = 1; i < items.length; i++) {
    if (Buffer.compare(items[i - 1].key, items[i].key) === 0) throw new Error(`patch of ${what}: key ${Buffer.from(items[i].key).toString('latin1')} given twice`);
  }
  return {
    sequence: base.sequence,
    *entries(): Generator<SourceEntry> {
      let i = 0;
      const fromPatch = (it: Item): SourceEntry => (it.patch ? { key: it.key, bucket: patchBucket(undefined, it.patch, sub(what, it.key)) } : { key: it.key, value: it.value });
      for (const e of base.entries()) {
        while (i < items.length && Buffer.compare(items[i].key, e.key) < 0) yield fromPatch(items[i++]);
        if (i < items.length && Buffer.compare(items[i].key, e.key) === 0) {
          const it = items[i++];
          const name = Buffer.from(e.key).toString('latin1');
          if (it.patch) {
            if (!e.bucket) throw new Error(`patch of ${what}: ${JSON.stringify(name)} is a key, not a bucket`);
            yield { key: e.key, bucket: patchBucket(e.bucket, it.patch, sub(what, e.key)) };
          } else {
            if (e.bucket) throw new Error(`patch of ${what}: ${JSON.stringify(name)} is a bucket, not a key`);
            yield { key: e.key, value: it.value };
          }
          continue;
        }
        yield e;
      }
      while (i < items.length) yield fromPatch(items[i++]);
    },
  };
}

function sub(what: string, key: Uint8Array): string {
  const name = JSON.stringify(Buffer.from(key).toString('latin1'));
  return what === 'the root bucket' ? `bucket ${name}` : `${what}/${name}`;
}
