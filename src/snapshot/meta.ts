import { SnapshotError } from './errors.js';
import { fnv1a64 } from './fnv.js';
import { MAGIC, MAX_PAGE_SIZE, MIN_PAGE_SIZE, PAGE_HEADER_SIZE, PGID_NO_FREELIST, VERSION, u32, u64, u64big } from './layout.js';

/** A bbolt meta page, decoded. Page ids are numbers (checked below 2^53); txid stays bigint. */
export interface Meta {
  /** Which meta page (0 or 1) this is. */
  index: 0 | 1;
  pageSize: number;
  flags: number;
  /** Root bucket's root page id. */
  root: number;
  rootSequence: bigint;
  /** Freelist page id, or undefined when the freelist is not persisted. */
  freelist: number | undefined;
  /** High-water mark: pages [0, pgid) are in use or free. */
  pgid: number;
  txid: bigint;
  checksum: bigint;
}

const META_BODY = 64; // magic..checksum
const SUMMED = 56; // FNV-1a covers the body up to the checksum

/** Decodes the meta body at `off` in `buf`; returns the reason when it is not a valid meta. */
export function decodeMeta(buf: Uint8Array, off: number, index: 0 | 1): Meta | string {
  if (buf.length < off + PAGE_HEADER_SIZE + META_BODY) return 'page is shorter than a meta page';
  const b = off + PAGE_HEADER_SIZE;
  const magic = u32(buf, b);
  if (magic !== MAGIC) {
    const be = ((buf[b] << 24) | (buf[b + 1] << 16) | (buf[b + 2] << 8) | buf[b + 3]) >>> 0;
    if (be === MAGIC) return 'big-endian bbolt database (written on s390x/ppc64), which this reader does not support';
    return `bad magic 0x${magic.toString(16).padStart(8, '0')} (want 0x${MAGIC.toString(16)})`;
  }
  const version = u32(buf, b + 4);
  if (version !== VERSION) return `unsupported bbolt version ${version} (want ${VERSION})`;
  const checksum = u64big(buf, b + SUMMED);
  const sum = fnv1a64(buf, b, b + SUMMED);
  if (checksum !== sum) return `checksum mismatch (stored 0x${checksum.toString(16)}, computed 0x${sum.toString(16)})`;
  const freelist = u64big(buf, b + 32);
  return {
    index,
    pageSize: u32(buf, b + 8),
    flags: u32(buf, b + 12),
    root: u64(buf, b + 16),
    rootSequence: u64big(buf, b + 24),
    freelist: freelist === PGID_NO_FREELIST ? undefined : u64(buf, b + 32),
    pgid: u64(buf, b + 40),
    txid: u64big(buf, b + 48),
    checksum,
  };
}

function isPageSize(n: number): boolean {
  return n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE && (n & (n - 1)) === 0;
}

/**
 * Picks the meta page bbolt would use: the higher txid if it is valid, else the other one.
 * `read(offset, length)` returns up to `length` bytes (fewer at end of data).
 * The page size comes from meta 0; when meta 0 is damaged, meta 1 is looked for at the usual
 * page sizes (bbolt itself only tries the OS page size).
 */
export function chooseMeta(read: (offset: number, length: number) => Uint8Array, dbLength: number, name: string): Meta {
  if (dbLength < 2 * MIN_PAGE_SIZE) {
    throw new SnapshotError('too-small', `${name}: ${dbLength} bytes is too small to be an etcd snapshot (a bbolt database has at least two meta pages)`);
  }
  const head = read(0, PAGE_HEADER_SIZE + META_BODY);
  const m0 = decodeMeta(head, 0, 0);
  let m1: Meta | string = 'not found';
  if (typeof m0 !== 'string') {
    if (!isPageSize(m0.pageSize)) {
      throw new SnapshotError('meta', `${name}: meta page 0 has an unsupported page size ${m0.pageSize} (want a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE})`, { pgid: 0, offset: 0 });
    }
    m1 = readMeta1(read, m0.pageSize, dbLength);
  } else {
    for (const ps of [4096, 8192, 16384, 65536, 32768, 2048, 1024, 512]) {
      const cand = readMeta1(read, ps, dbLength);
      if (typeof cand !== 'string' && cand.pageSize === ps) {
        m1 = cand;
        break;
      }
      if (ps === 4096) m1 = cand; // report the reason at the common size
    }
  }
  const valid = [m0, m1].filter((m): m is Meta => typeof m !== 'string');
  if (valid.length === 0) {
    throw new SnapshotError('meta', `${name}: no valid bbolt meta page (meta 0: ${m0}; meta 1: ${m1}): not an etcd snapshot, or its header is damaged`, { pgid: 0, offset: 0 });
  }
  valid.sort((a, b) => (a.txid > b.txid ? -1 : a.txid < b.txid ? 1 : a.index - b.index));
  const meta = valid[0];
  checkMeta(meta, dbLength, name);
  return meta;
}

function readMeta1(read: (offset: number, length: number) => Uint8Array, pageSize: number, dbLength: number): Meta | string {
  if (dbLength < 2 * pageSize) return `the file ends before meta page 1 at offset ${pageSize}`;
  const m = decodeMeta(read(pageSize, PAGE_HEADER_SIZE + META_BODY), 0, 1);
  if (typeof m !== 'string' && m.pageSize !== pageSize) return `page size ${m.pageSize} differs from meta 0's ${pageSize}`;
  return m;
}

/** Range checks on the chosen meta; anything off here would send the walk out of the file. */
function checkMeta(m: Meta, dbLength: number, name: string): void {
  const where = { pgid: m.index, offset: m.index * m.pageSize };
  const bad = (what: string) => new SnapshotError('meta', `${name}: meta page ${m.index}: ${what}`, where);
  if (!isPageSize(m.pageSize)) throw bad(`unsupported page size ${m.pageSize}`);
  if (!Number.isFinite(m.pgid) || m.pgid < 4) throw bad(`high-water mark ${m.pgid} is impossible (a database has at least 4 pages)`);
  if (m.pgid * m.pageSize > dbLength) {
    throw new SnapshotError(
      'meta',
      `${name}: truncated: meta page ${m.index} says the database has ${m.pgid} pages (${m.pgid * m.pageSize} bytes) but the file holds only ${dbLength} bytes of it`,
      where,
    );
  }
  if (m.root < 2 || m.root >= m.pgid) throw bad(`root bucket page ${m.root} is outside pages 2..${m.pgid - 1}`);
  if (m.freelist !== undefined && (m.freelist < 2 || m.freelist >= m.pgid)) throw bad(`freelist page ${m.freelist} is outside pages 2..${m.pgid - 1}`);
}
