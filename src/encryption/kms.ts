import type { ReadResult, TransformContext, Transformer } from './transformer.js';
import { TransformError } from './errors.js';

/**
 * KMS providers need a gRPC plugin that etcd-ops does not talk to. The entry still takes its place
 * in the prefix list, so reads of KMS data fail for that object alone with a clear reason, and
 * configurations that list KMS keep their meaning for every other provider.
 */
export class UnsupportedKmsTransformer implements Transformer {
  constructor(private readonly name: string) {}

  fromStorage(_stored: Buffer, _ctx: TransformContext): ReadResult {
    throw new TransformError(`KMS provider ${JSON.stringify(this.name)} is not supported by etcd-ops`);
  }

  toStorage(_plain: Buffer, _ctx: TransformContext): Buffer {
    throw new TransformError(`KMS provider ${JSON.stringify(this.name)} is not supported by etcd-ops`);
  }
}
