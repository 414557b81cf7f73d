import { BoltWriter, type BucketSource, type WriteResult } from '../bbolt/writer.js';
import { writeDbFileAtomic } from '../bbolt/file.js';
import { patchBucket, type BucketPatch } from '../bbolt/patch.js';
import { openDbTree } from '../snapshot/tree.js';
import { KEY_BUCKET, revisionBump, type RevisionBump } from './bump.js';

export interface RewriteOptions {
  /** Where to write (default: over `path`, through a temp file and rename). */
  out?: string;
  /** Revision bump with compaction mark (etcd's --bump-revision N --mark-compacted). */
  bump?: bigint;
  /** Further changes. */
  patch?: BucketPatch;
  fillPercent?: number;
}

export interface RewriteResult extends WriteResult {
  bump?: RevisionBump;
  /** Size of the new file. */
  bytes: number;
}

/**
 * Rewrites a bbolt database (a member's snap/db, or a snapshot file with or without its
 * sha256 trailer) into a fresh compact file with the changes applied, in one streaming pass:
 * read with the snapshot reader, write with the bbolt writer, temp → fsync → rename. The new
 * file has no trailer; it is a member db, not a snapshot.
 */
export function rewriteDb(path: string, opts: RewriteOptions = {}): RewriteResult {
  const tree = openDbTree(path);
  try {
    const bump = opts.bump !== undefined && opts.bump > 0n ? revisionBump(tree.lastKey([KEY_BUCKET]), opts.bump) : undefined;
    const patches = [bump?.patch, opts.patch].filter((p): p is BucketPatch => p !== undefined);
    let root: BucketSource = tree.root();
    for (const p of patches) root = patchBucket(root, p);
    const pageSize = tree.meta.pageSize;
    const result = writeDbFileAtomic(opts.out ?? path, pageSize, (sink) => new BoltWriter(sink, { pageSize, fillPercent: opts.fillPercent, txid: tree.meta.txid + 1n }).write(root));
    return { ...result, bump, bytes: result.pages * pageSize };
  } finally {
    tree.close();
  }
}
