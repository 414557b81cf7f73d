import { UserError } from '../util/errors.js';

/**
 * What went wrong with a snapshot file. `io` is the file itself (unreadable, vanished);
 * everything else means the bytes are not a sound etcd/bbolt database.
 */
export type SnapshotErrorCode =
  | 'io' // cannot read the file
  | 'too-small' // shorter than two meta pages
  | 'trailer' // sha256 trailer does not match the database bytes
  | 'meta' // no valid meta page, or a meta field out of range
  | 'page' // a page id out of range, a wrong page type or header
  | 'element' // an element (key/value/child pointer) outside its page
  | 'tree' // cycles, shared pages, too deep, unreachable pages
  | 'bucket' // a bucket value is malformed
  | 'freelist' // the freelist page is malformed
  | 'etcd' // bbolt is sound but etcd's data in it is not (revision keys, protobuf)
  | 'limit'; // a size limit we impose to keep memory bounded

/**
 * A damaged, hostile or unreadable snapshot. Always a UserError: the CLI prints the message
 * on one line. `pgid` and `offset` locate the damage when it sits in a page.
 */
export class SnapshotError extends UserError {
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
    readonly where: { pgid?: number; offset?: number } = {},
  ) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** "page 12 (offset 49152)": where a problem sits, for messages. */
export function pageRef(pgid: number, pageSize: number): string {
  return `page ${pgid} (offset ${pgid * pageSize})`;
}
