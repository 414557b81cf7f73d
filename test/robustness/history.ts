/**
 * The recorded history of a robustness run: what every client asked, when, and what it was told.
 * Pure data (JSON-serialisable), written by the traffic generator, read by `check()` (checker.ts).
 * README.md beside this file explains each field and what the producer must guarantee.
 */

/** Milliseconds on one monotonic clock shared by every client of the run (performance.now()). */
export type Millis = number;
/** A resourceVersion as a number: etcd's revision when the object (or list, or event) was written/read. */
export type Revision = number;
/** `namespace/name` of one object of the resource the traffic uses. */
export type ObjectKey = string;
/**
 * What a create or update writes, e.g. `data.v`. Unique over the whole history (`c3-17`: client and
 * seq): a value read back names its write, which is what makes the check linear instead of NP-hard.
 */
export type Value = string;

/** Which keys a list or watch covers: one namespace (or all), optionally one name (fieldSelector). */
export interface Scope {
  namespace?: string;
  name?: string;
}

/** The request was answered and definitely not applied: 400, 403, 404, 409, 422, 429 ... */
export interface Failed {
  result: 'failed';
  code: number;
  /** The Status reason: Conflict, AlreadyExists, NotFound, Invalid, Expired ... */
  reason?: string;
  message?: string;
}

/** No answer, or one that does not say: timeout, connection reset, 5xx. A write may or may not have been applied. */
export interface Unknown {
  result: 'unknown';
  error: string;
}

export interface Written {
  result: 'ok';
  /** metadata.resourceVersion of the response: the revision of this write. */
  rv: Revision;
}

export interface Deleted {
  result: 'ok';
  /** The revision of the deletion (what kube-apiserver puts in the returned object). */
  rv: Revision;
  /** The deleted object's value as returned, when the response carried the object. */
  value?: Value;
}

export interface Read {
  result: 'ok';
  /** The object's metadata.resourceVersion: its last write's revision (not the read's). */
  rv: Revision;
  value: Value;
}

export interface ListItem {
  key: ObjectKey;
  /** The item's metadata.resourceVersion. */
  rv: Revision;
  value: Value;
}

export interface Listed {
  result: 'ok';
  /** The collection's metadata.resourceVersion (every page of a paginated list has the first page's). */
  rv: Revision;
  /** The items of every page, concatenated. */
  items: ListItem[];
}

interface OpBase {
  /** Who sent it. A client does one request at a time: its ops never overlap in time. */
  client: string;
  /** 0, 1, 2 ... per client, in the order the client sent them. */
  seq: number;
  /** Just before the request was sent. */
  start: Millis;
  /** When the answer arrived or the client gave up. */
  end: Millis;
}

export interface CreateOp extends OpBase {
  kind: 'create';
  key: ObjectKey;
  value: Value;
  /** 409 AlreadyExists is a definite failure. */
  outcome: Written | Failed | Unknown;
}

export interface UpdateOp extends OpBase {
  kind: 'update';
  key: ObjectKey;
  value: Value;
  /** metadata.resourceVersion sent with the update: compare-and-swap. Absent: unconditional PUT. */
  precondition?: Revision;
  /** 409 Conflict (precondition) and 404 NotFound are definite failures. */
  outcome: Written | Failed | Unknown;
}

export interface DeleteOp extends OpBase {
  kind: 'delete';
  key: ObjectKey;
  /** DeleteOptions.preconditions.resourceVersion. */
  precondition?: Revision;
  outcome: Deleted | Failed | Unknown;
}

export interface GetOp extends OpBase {
  kind: 'get';
  key: ObjectKey;
  /** A 404 NotFound is recorded as `failed` with code 404 and means "absent when read". */
  outcome: Read | Failed | Unknown;
}

export interface ListOp extends OpBase {
  kind: 'list';
  scope: Scope;
  /** The `limit` of each page (0 or absent: one page). Descriptive only. */
  limit?: number;
  /** How many pages it took. Descriptive only. */
  pages?: number;
  /**
   * The closing list of everything, taken after all traffic stopped (and after the API server's
   * request timeout, so no unknown write is still in flight): the lost-write check compares it
   * with every acknowledged write.
   */
  final?: boolean;
  /** A continue token that expired is `failed` with 410. */
  outcome: Listed | Failed | Unknown;
}

export type WriteOp = CreateOp | UpdateOp | DeleteOp;
export type Operation = WriteOp | GetOp | ListOp;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent {
  type: WatchEventType;
  /** Absent for BOOKMARK. */
  key?: ObjectKey;
  /** The object's resourceVersion; for DELETED the deletion's revision; for BOOKMARK the progress revision. */
  rv: Revision;
  /** ADDED/MODIFIED: the new value. DELETED: the deleted object's last value. Absent for BOOKMARK. */
  value?: Value;
  /** When the client received it. */
  at: Millis;
}

/** How a stream ended: closed by either side, a 410 Gone / Expired ERROR event, or another error. */
export type WatchEnding = { kind: 'closed' } | { kind: 'gone'; message?: string } | { kind: 'error'; message: string };

export interface WatchStream {
  /** Unique per history. */
  id: string;
  client: string;
  scope: Scope;
  /**
   * The `resourceVersion` the watch was opened with: > 0, taken from a list or from the previous
   * stream's last event or bookmark (a watch without one starts with synthetic ADDED events, which
   * this format does not record).
   */
  startRv: Revision;
  start: Millis;
  end: Millis;
  /** The stream this one resumes (after a disconnect: from its last rv; after a 410: from a relist's rv). */
  resumeOf?: string;
  /** In the order received; ERROR events are not events but the `ending`. */
  events: WatchEvent[];
  ending: WatchEnding;
}

/**
 * A restore of etcd from a backup taken at `backupRevision`. Afterwards every key is as it was at
 * that revision: acknowledged writes after it are expected lost, and every revision handed out
 * must exceed every revision seen before (the restore bumps revisions and marks them compacted).
 */
export interface RestoreEvent {
  kind: 'restore';
  /** When the restore began (etcd stopped). */
  start: Millis;
  /** When the restored cluster served requests again. */
  end: Millis;
  backupRevision: Revision;
  /**
   * The first revision the restored cluster hands out (its bumped revision: a list before any
   * write gets it, the first write the next), when the restore says so. Every revision at or above it was handed out after the restore, every one below it
   * before: records during a long restore are then placed exactly, where without it only those
   * above every revision seen before the restore began count as after it.
   */
  firstRevision?: Revision;
}

/** An etcd compaction the run triggered: watches from below `revision` may legitimately get 410. */
export interface CompactionEvent {
  kind: 'compaction';
  at: Millis;
  revision: Revision;
}

/**
 * An encryption migration: between start and end the operator may rewrite any object with its own
 * value (re-encrypted), which gives it a new resourceVersion without changing its value.
 */
export interface MigrationEvent {
  kind: 'migration';
  start: Millis;
  end: Millis;
}

/** A fault or operation (kill, partition, defrag, backup ...), for figures; the checker ignores it. */
export interface FaultEvent {
  kind: 'fault';
  start: Millis;
  end: Millis;
  what: string;
}

export type SpecialEvent = RestoreEvent | CompactionEvent | MigrationEvent | FaultEvent;

export interface History {
  /** Every client's operations, in any order. */
  ops: Operation[];
  watches: WatchStream[];
  specials: SpecialEvent[];
}

/** How a violation names what it is about: `<client>#<seq>`. */
export function opRef(op: Pick<Operation, 'client' | 'seq'>): string {
  return `${op.client}#${op.seq}`;
}

/** `watch:<id>` for a stream, `watch:<id>[<index>]` for one of its events. */
export function watchRef(w: Pick<WatchStream, 'id'>, eventIndex?: number): string {
  return eventIndex === undefined ? `watch:${w.id}` : `watch:${w.id}[${eventIndex}]`;
}

/** `<kind>#<index in specials>`, e.g. `restore#3`. */
export function specialRef(s: SpecialEvent, index: number): string {
  return `${s.kind}#${index}`;
}

export function objectKey(namespace: string, name: string): ObjectKey {
  return `${namespace}/${name}`;
}

export function inScope(scope: Scope, key: ObjectKey): boolean {
  const slash = key.indexOf('/');
  const ns = slash < 0 ? '' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return (scope.namespace === undefined || scope.namespace === ns) && (scope.name === undefined || scope.name === name);
}

/** The value convention: unique because (client, seq) is. */
export function uniqueValue(client: string, seq: number): Value {
  return `${client}-${seq}`;
}

/**
 * How to record an HTTP answer that is not a success. A 4xx was refused before anything was
 * written (except 408, a timeout); a 5xx or no answer may come after etcd applied the write.
 */
export function outcomeOfStatus(code: number, reason?: string, message?: string): Failed | Unknown {
  if (code >= 400 && code < 500 && code !== 408) return { result: 'failed', code, reason, message };
  return { result: 'unknown', error: `HTTP ${code}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}` };
}

export function isWrite(op: Operation): op is WriteOp {
  return op.kind === 'create' || op.kind === 'update' || op.kind === 'delete';
}
