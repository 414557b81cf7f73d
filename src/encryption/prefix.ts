import type { ReadResult, TransformContext, Transformer } from './transformer.js';
import { TransformError, aggregate } from './errors.js';
import { hasPrefix } from './identity.js';
import { isLeaf, type LeafTransformer } from './leaf.js';

export interface PrefixEntry {
  /** Bytes that mark a value as this entry's. Empty for identity, which then matches anything. */
  readonly prefix: Buffer;
  readonly transformer: Transformer;
}

/**
 * Picks a transformer by the prefix on the stored value, as value.NewPrefixTransformers does.
 * The first entry writes. Reads try every entry whose prefix matches, in order: a failing entry
 * does not stop the search, and failures of empty-prefix entries (identity) are not reported.
 * A value read by any entry but the first is stale.
 */
export class PrefixTransformers implements LeafTransformer {
  private readonly entries: readonly PrefixEntry[];
  /** The write path flattened: the whole prefix chain down to the cipher that writes. */
  private readonly writer: { prefix: Buffer; leaf: LeafTransformer } | undefined;

  constructor(
    entries: readonly PrefixEntry[],
    /** The reason when no entry matched, e.g. "no matching key was found for the provided AES transformer". */
    private readonly noMatch: string,
  ) {
    if (entries.length === 0) throw new Error('PrefixTransformers needs at least one entry');
    this.entries = entries;
    const first = entries[0]!;
    if (isLeaf(first.transformer)) {
      const inner = first.transformer instanceof PrefixTransformers ? first.transformer.writer : undefined;
      this.writer = inner
        ? { prefix: Buffer.concat([first.prefix, inner.prefix]), leaf: inner.leaf }
        : { prefix: first.prefix, leaf: first.transformer };
    }
  }

  fromStorage(stored: Buffer, ctx: TransformContext): ReadResult {
    let errs: Error[] | undefined;
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const { prefix, transformer } = entries[i]!;
      if (!hasPrefix(stored, prefix)) continue;
      let r: ReadResult;
      try {
        r = transformer.fromStorage(prefix.length === 0 ? stored : stored.subarray(prefix.length), ctx);
      } catch (err) {
        if (prefix.length === 0) continue;
        (errs ??= []).push(err instanceof Error ? err : new TransformError(String(err)));
        continue;
      }
      return i === 0 ? r : { data: r.data, stale: true };
    }
    if (errs) throw aggregate(errs);
    throw new TransformError(this.noMatch);
  }

  toStorage(plain: Buffer, ctx: TransformContext): Buffer {
    if (this.writer) return this.writer.leaf.sealAfter(this.writer.prefix, plain, ctx);
    const first = this.entries[0]!;
    return first.prefix.length === 0 ? first.transformer.toStorage(plain, ctx) : Buffer.concat([first.prefix, first.transformer.toStorage(plain, ctx)]);
  }

  sealAfter(prefix: Buffer, plain: Buffer, ctx: TransformContext): Buffer {
    if (this.writer) return this.writer.leaf.sealAfter(prefix.length === 0 ? this.writer.prefix : Buffer.concat([prefix, this.writer.prefix]), plain, ctx);
    return Buffer.concat([prefix, this.toStorage(plain, ctx)]);
  }
}
