import { humanizeBytes } from '../../etcd/humanize.js';
import { readValues, type KeyValue, type LatestQuery, type Snapshot, type SnapshotStatus, type ValueTransform } from '../../snapshot/index.js';
import { etcdctlTable } from '../../util/table.js';

export type StatusFormat = 'simple' | 'json' | 'table';

/**
 * `etcdctl snapshot status -w <format>` output, byte for byte (3.4): the hash in lowercase hex
 * without padding (simple, table) or decimal (json), the size humanized like go-humanize.
 */
export function formatStatus(s: SnapshotStatus, format: StatusFormat): string {
  const row = [s.hash.toString(16), s.revision.toString(), String(s.totalKey), humanizeBytes(s.totalSize)];
  switch (format) {
    case 'simple':
      return `${row.join(', ')}\n`;
    case 'json':
      return `{"hash":${s.hash},"revision":${s.revision},"totalKey":${s.totalKey},"totalSize":${s.totalSize}}\n`;
    case 'table':
      return `${etcdctlTable(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], [row])}\n`;
  }
}

/** `etcdctl get` simple output: the key on one line, the value on the next, raw bytes. */
export function simpleKv(kv: KeyValue): Buffer {
  return Buffer.concat([kv.key, NL, kv.value, NL]);
}
const NL = Buffer.from('\n');

/**
 * `etcdctl get -w json` output (Go's encoding/json of RangeResponse: omitempty fields, bytes
 * in base64), streamed: call kv() per value, end() once. The header carries only the
 * revision: cluster and member IDs and the raft term are not in the database.
 */
export class JsonGetWriter {
  private count = 0;
  constructor(
    private readonly write: (s: string) => void,
    private readonly headRevision: bigint,
  ) {}

  kv(kv: KeyValue): void {
    const fields: string[] = [];
    if (kv.key.length) fields.push(`"key":"${kv.key.toString('base64')}"`);
    if (kv.createRevision) fields.push(`"create_revision":${kv.createRevision}`);
    if (kv.modRevision) fields.push(`"mod_revision":${kv.modRevision}`);
    if (kv.version) fields.push(`"version":${kv.version}`);
    if (kv.value.length) fields.push(`"value":"${kv.value.toString('base64')}"`);
    if (kv.lease) fields.push(`"lease":${kv.lease}`);
    this.write(`${this.count === 0 ? `${this.header()},"kvs":[` : ','}{${fields.join(',')}}`);
    this.count++;
  }

  end(): void {
    this.write(this.count === 0 ? `${this.header()}}\n` : `],"count":${this.count}}\n`);
  }

  private header(): string {
    return `{"header":{${this.headRevision ? `"revision":${this.headRevision}` : ''}}`;
  }
}

/**
 * Writes `snapshot get` output for `q` through `out` (which may return a promise to apply
 * backpressure). `transform` is where a decryption step plugs in.
 */
export async function writeValues(
  snap: Snapshot,
  q: LatestQuery,
  format: 'simple' | 'json',
  out: (chunk: string | Buffer) => void | Promise<void>,
  transform?: ValueTransform,
): Promise<number> {
  const { headRevision, kvs } = readValues(snap, q, transform);
  let n = 0;
  if (format === 'simple') {
    for await (const kv of kvs) {
      await out(simpleKv(kv));
      n++;
    }
    return n;
  }
  const pending: string[] = [];
  const json = new JsonGetWriter((s) => pending.push(s), headRevision);
  for await (const kv of kvs) {
    json.kv(kv);
    await out(pending.splice(0).join(''));
    n++;
  }
  json.end();
  await out(pending.splice(0).join(''));
  return n;
}
