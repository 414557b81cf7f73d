import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fnv1a64 } from '../../src/snapshot/fnv.js';
import { bins } from './etcd.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `etcdctl snapshot status` on a file: stdout, or throws with stderr. */
export function etcdctlStatus(file: string, format: string): string {
  const r = spawnSync(bins.etcdctl, ['snapshot', 'status', '-w', format, file], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  if (r.status !== 0) throw new Error(`etcdctl snapshot status ${file} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs our CLI (a real process, as a user would). */
export function etcdOps(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'etcd-ops.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stdin for `etcdctl txn`: no compares, the puts as the success branch, no failure branch. */
export function txnPuts(entries: Array<[string, string]>): string {
  return `\n${entries.map(([k, v]) => `put ${k} ${v}`).join('\n')}\n\n\n`;
}

// ---------------------------------------------------------------------------------------------
// A tiny bbolt page writer for hand-crafted (and deliberately broken) databases.

export interface LeafEntry {
  key: Uint8Array | string;
  value: Uint8Array | string;
  bucket?: boolean;
}

const bytes = (x: Uint8Array | string) => (typeof x === 'string' ? Buffer.from(x) : Buffer.from(x));

export class BoltBuilder {
  readonly pages = new Map<number, Buffer>();
  constructor(readonly pageSize = 4096) {}

  /** A leaf page (overflow added as needed); returns the page bytes for further tampering. */
  leaf(id: number, entries: LeafEntry[]): Buffer {
    const p = leafPage(entries, this.pageSize);
    p.writeBigUInt64LE(BigInt(id), 0);
    this.pages.set(id, p);
    return p;
  }

  branch(id: number, children: Array<{ key: Uint8Array | string; pgid: number }>): Buffer {
    const data = children.map((c) => bytes(c.key));
    const size = 16 + children.length * 16 + data.reduce((n, d) => n + d.length, 0);
    const p = Buffer.alloc(Math.ceil(size / this.pageSize) * this.pageSize);
    p.writeBigUInt64LE(BigInt(id), 0);
    p.writeUInt16LE(0x01, 8);
    p.writeUInt16LE(children.length, 10);
    p.writeUInt32LE(p.length / this.pageSize - 1, 12);
    let at = 16 + children.length * 16;
    children.forEach((c, i) => {
      const e = 16 + i * 16;
      p.writeUInt32LE(at - e, e);
      p.writeUInt32LE(data[i].length, e + 4);
      p.writeBigUInt64LE(BigInt(c.pgid), e + 8);
      data[i].copy(p, at);
      at += data[i].length;
    });
    this.pages.set(id, p);
    return p;
  }

  freelist(id: number, ids: number[]): Buffer {
    const p = Buffer.alloc(this.pageSize);
    p.writeBigUInt64LE(BigInt(id), 0);
    p.writeUInt16LE(0x10, 8);
    p.writeUInt16LE(ids.length, 10);
    ids.forEach((f, i) => p.writeBigUInt64LE(BigInt(f), 16 + i * 8));
    this.pages.set(id, p);
    return p;
  }

  meta(index: 0 | 1, m: { root: number; pgid: number; txid: number; freelist?: number | 'none'; pageSize?: number }): Buffer {
    const p = Buffer.alloc(this.pageSize);
    p.writeBigUInt64LE(BigInt(index), 0);
    p.writeUInt16LE(0x04, 8);
    const b = 16;
    p.writeUInt32LE(0xed0cdaed, b);
    p.writeUInt32LE(2, b + 4);
    p.writeUInt32LE(m.pageSize ?? this.pageSize, b + 8);
    p.writeBigUInt64LE(BigInt(m.root), b + 16);
    p.writeBigUInt64LE(m.freelist === undefined || m.freelist === 'none' ? 0xffffffffffffffffn : BigInt(m.freelist), b + 32);
    p.writeBigUInt64LE(BigInt(m.pgid), b + 40);
    p.writeBigUInt64LE(BigInt(m.txid), b + 48);
    resumMeta(p);
    this.pages.set(index, p);
    return p;
  }

  /** The database bytes for pages [0, pgid), zero-filled gaps; with the sha256 trailer if asked. */
  build(pgid: number, opts: { trailer?: boolean } = {}): Buffer {
    const out = Buffer.alloc(pgid * this.pageSize);
    for (const [id, p] of this.pages) if (id < pgid) p.copy(out, id * this.pageSize, 0, Math.min(p.length, out.length - id * this.pageSize));
    return opts.trailer ? withTrailer(out) : out;
  }
}

/** Recomputes a meta page's FNV-1a checksum after tampering with its fields. */
export function resumMeta(page: Buffer, off = 0): void {
  page.writeBigUInt64LE(fnv1a64(page, off + 16, off + 72), off + 72);
}

export function withTrailer(db: Buffer): Buffer {
  return Buffer.concat([db, createHash('sha256').update(db).digest()]);
}

function leafPage(entries: LeafEntry[], pageSize: number): Buffer {
  const ks = entries.map((e) => bytes(e.key));
  const vs = entries.map((e) => bytes(e.value));
  const size = 16 + entries.length * 16 + ks.reduce((n, k, i) => n + k.length + vs[i].length, 0);
  const p = Buffer.alloc(Math.ceil(size / pageSize) * pageSize);
  writeLeaf(p, entries, ks, vs);
  p.writeUInt32LE(p.length / pageSize - 1, 12);
  return p;
}

function writeLeaf(p: Buffer, entries: LeafEntry[], ks: Buffer[], vs: Buffer[]): void {
  p.writeUInt16LE(0x02, 8);
  p.writeUInt16LE(entries.length, 10);
  let at = 16 + entries.length * 16;
  entries.forEach((en, i) => {
    const e = 16 + i * 16;
    p.writeUInt32LE(en.bucket ? 1 : 0, e);
    p.writeUInt32LE(at - e, e + 4);
    p.writeUInt32LE(ks[i].length, e + 8);
    p.writeUInt32LE(vs[i].length, e + 12);
    ks[i].copy(p, at);
    vs[i].copy(p, at + ks[i].length);
    at += ks[i].length + vs[i].length;
  });
}

/** A bucket value pointing at a page: {root, sequence}. */
export function bucketValue(root: number, sequence = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(BigInt(root), 0);
  b.writeBigUInt64LE(BigInt(sequence), 8);
  return b;
}

/** An inline bucket value: root 0, then a leaf page holding `entries`. */
export function inlineBucket(entries: LeafEntry[]): Buffer {
  const ks = entries.map((e) => bytes(e.key));
  const vs = entries.map((e) => bytes(e.value));
  const size = 16 + entries.length * 16 + ks.reduce((n, k, i) => n + k.length + vs[i].length, 0);
  const page = Buffer.alloc(size);
  writeLeaf(page, entries, ks, vs);
  return Buffer.concat([bucketValue(0), page]);
}

// ---------------------------------------------------------------------------------------------
// etcd records, encoded the way etcd does, for crafted `key` buckets.

export function revKey(main: number | bigint, sub: number | bigint = 0, tombstone = false): Buffer {
  const b = Buffer.alloc(tombstone ? 18 : 17);
  b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(main)), 0);
  b[8] = 0x5f;
  b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(sub)), 9);
  if (tombstone) b[17] = 0x74;
  return b;
}

export function varint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

/** mvccpb.KeyValue, proto3 (zero fields omitted), as gogoproto marshals it. */
export function kvProto(kv: { key: string | Buffer; create?: number | bigint; mod?: number | bigint; version?: number | bigint; value?: string | Buffer; lease?: number | bigint }): Buffer {
  const parts: Buffer[] = [];
  const bytesField = (f: number, v: Buffer) => (v.length ? parts.push(varint((f << 3) | 2), varint(v.length), v) : 0);
  const intField = (f: number, v: number | bigint | undefined) => (v ? parts.push(varint(f << 3), varint(v)) : 0);
  bytesField(1, bytes(kv.key));
  intField(2, kv.create);
  intField(3, kv.mod);
  intField(4, kv.version);
  bytesField(5, bytes(kv.value ?? ''));
  intField(6, kv.lease);
  return Buffer.concat(parts);
}

/**
 * A minimal etcd-shaped database: a root leaf (page 2) with an inline `meta` bucket and a
 * `key` bucket whose tree the caller supplies (root page `keyRoot`).
 */
export function etcdRoot(b: BoltBuilder, keyRoot: number | Buffer): void {
  b.leaf(2, [
    { key: 'key', value: typeof keyRoot === 'number' ? bucketValue(keyRoot) : keyRoot, bucket: true },
    { key: 'meta', value: inlineBucket([{ key: 'consistent_index', value: Buffer.alloc(8, 1) }]), bucket: true },
  ]);
}

/** etcdctl against a member, for outputs larger than spawnSync's default 1 MiB buffer. */
export function etcdctlLarge(member: { ctlArgs: string[] }, args: string[]): string {
  const r = spawnSync(bins.etcdctl, [...member.ctlArgs, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ETCDCTL_API: '3' } });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${r.error?.message ?? r.status}): ${r.stderr}`);
  return r.stdout;
}
