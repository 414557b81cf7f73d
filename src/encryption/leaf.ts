import type { TransformContext, Transformer } from './transformer.js';

/**
 * A cipher at the bottom of a prefix chain. Besides the plain Transformer calls it can write its
 * output straight after a given prefix, so a write through "k8s:enc:aescbc:v1:" + "key1:" costs
 * one allocation instead of one per level.
 */
export interface LeafTransformer extends Transformer {
  sealAfter(prefix: Buffer, plain: Buffer, ctx: TransformContext): Buffer;
}

export const NO_PREFIX = Buffer.alloc(0);

export function isLeaf(t: Transformer): t is LeafTransformer {
  return typeof (t as Partial<LeafTransformer>).sealAfter === 'function';
}
