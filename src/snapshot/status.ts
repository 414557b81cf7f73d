import { crc32c } from '@node-rs/crc32';
import { ELEMENT_SIZE, FLAG_FREELIST, LEAF_BUCKET, PAGE_HEADER_SIZE, u16, u32, u64 } from './layout.js';
import { PageMap, type Pager } from './pager.js';
import { bucketLeaves, bucketRef, checkLeaf, leafElement, type BucketRef } from './walk.js';

/** What `etcdctl snapshot status` reports. */
export interface SnapshotStatus {
  /** CRC-32C over bucket names, keys and values (see computeStatus). */
  hash: number;
  /** Main revision of the last key in the `key` bucket (0 when it is empty). */
  revision: bigint;
  /** Entries across all top-level buckets. */
  totalKey: number;
  /** meta.pgid * pageSize: the database's high-water size, not the file size. */
  totalSize: number;
}

interface Nested {
  ref: BucketRef;
  what: string;
  depth: number;
}

/**
 * etcdctl 3.4's Status: CRC-32C (Castagnoli) over, for each top-level bucket in key order, its
 * name, then each key and value in key order (nested bucket values contribute nothing), the
 * revision from the last `key` bucket key, and the entry count. Like etcdctl (which runs
 * bbolt's tx.Check first), it also walks nested buckets and the freelist, and fails on pages
 * that are out of range, shared, of the wrong type, or (with a persisted freelist) lost.
 */
export function computeStatus(pager: Pager): SnapshotStatus {
  const pages = new PageMap(pager);
  pages.state[0] = PageMap.USED;
  pages.state[1] = PageMap.USED;
  readFreelist(pager, pages);

  let crc = 0;
  let totalKey = 0;
  let revision = 0n;
  const nested: Nested[] = [];
  // The main revision bytes of the last `key` record seen: copied, as pages are recycled.
  const lastMain = Buffer.alloc(8);

  const root = bucketLeaves(pager, pages, { root: pager.meta.root }, 'the root bucket');
  for (let rootPage = root.next(); rootPage; rootPage = root.next()) {
    const rootId = root.current;
    const count = checkLeaf(rootPage, (w) => pager.fail('element', rootId, `root bucket: ${w}`));
    for (let i = 0; i < count; i++) {
      const el = leafElement(rootPage, i);
      const name = rootPage.subarray(el.kStart, el.vStart);
      const label = JSON.stringify(name.toString('latin1'));
      if (!(el.flags & LEAF_BUCKET)) throw pager.fail('bucket', rootId, `top-level key ${label} is not a bucket (etcdctl: cannot get hash of bucket)`);
      crc = crc32c(name, crc);
      const what = `bucket ${label}`;
      const ref = bucketRef(pager, rootPage.subarray(el.vStart, el.vEnd), what, rootId);
      const isKey = name.length === 3 && name[0] === 0x6b && name[1] === 0x65 && name[2] === 0x79; // "key"
      const leaves = bucketLeaves(pager, pages, ref, what);
      const where = ref.inline ? `inline ${what}` : what;
      for (let page = leaves.next(); page; page = leaves.next()) {
        const at = ref.inline ? rootId : leaves.current;
        const n = u16(page, 10);
        crc = hashLeaf(pager, page, n, crc, at, where, nested);
        totalKey += n;
        if (isKey && n > 0) lastKeyMain(pager, page, at, lastMain);
      }
      if (isKey) revision = lastMain.readBigInt64BE(0);
    }
  }

  // Nested buckets: hashed by key only above, but their pages must be sound and accounted for.
  while (nested.length) {
    const nb = nested.pop()!;
    if (nb.depth > pager.limits.maxDepth) throw pager.fail('tree', nb.ref.root, `buckets nested deeper than ${pager.limits.maxDepth} levels at ${nb.what}`);
    const leaves = bucketLeaves(pager, pages, nb.ref, nb.what);
    for (let page = leaves.next(); page; page = leaves.next()) {
      const at = nb.ref.inline ? 0 : leaves.current;
      const count = checkLeaf(page, (w) => pager.fail('element', at, `${nb.what}: ${w}`));
      for (let i = 0; i < count; i++) {
        const el = leafElement(page, i);
        if (el.flags & LEAF_BUCKET) {
          const k = page.subarray(el.kStart, el.vStart).toString('latin1');
          nested.push({ ref: bucketRef(pager, page.subarray(el.vStart, el.vEnd), `${nb.what} key ${JSON.stringify(k)}`, at), what: `${nb.what}/${k}`, depth: nb.depth + 1 });
        }
      }
    }
  }

  if (pager.meta.freelist !== undefined) {
    // Without a persisted freelist bbolt rebuilds it from whatever is unreachable; with one,
    // a page that is neither reachable nor free is lost (bbolt: "unreachable unfreed").
    const { state } = pages;
    for (let i = 2; i < state.length; i++) {
      if (state[i] === 0) throw pager.fail('tree', i, 'is neither reachable nor on the freelist (unreachable unfreed)');
    }
  }

  return { hash: crc >>> 0, revision, totalKey, totalSize: pager.meta.pgid * pager.pageSize };
}

/**
 * Adds one leaf page's keys and values to the CRC. bbolt writes a leaf's keys and values back
 * to back in element order, so when the elements say so the whole data area is hashed in one
 * call; otherwise (or with nested buckets, whose values are skipped) element by element.
 */
function hashLeaf(pager: Pager, page: Buffer, count: number, crc: number, at: number, what: string, nested: Nested[]): number {
  const len = page.length;
  const dataStart = PAGE_HEADER_SIZE + count * ELEMENT_SIZE;
  if (dataStart > len) throw pager.fail('element', at, `${what}: ${count} leaf elements do not fit in ${len} bytes`);
  let expected = dataStart;
  let simple = true;
  for (let i = 0, e = PAGE_HEADER_SIZE; i < count; i++, e += ELEMENT_SIZE) {
    const start = e + u32(page, e + 4);
    const end = start + u32(page, e + 8) + u32(page, e + 12);
    if (end > len) throw pager.fail('element', at, `${what}: leaf element ${i} has its key/value outside the page (ends at ${end} of ${len})`);
    if (start !== expected || page[e] & LEAF_BUCKET) simple = false;
    expected = end;
  }
  if (simple) return count === 0 ? crc : crc32c(page.subarray(dataStart, expected), crc);
  for (let i = 0; i < count; i++) {
    const el = leafElement(page, i);
    const key = page.subarray(el.kStart, el.vStart);
    crc = crc32c(key, crc);
    if (el.flags & LEAF_BUCKET) {
      const k = key.toString('latin1');
      nested.push({ ref: bucketRef(pager, page.subarray(el.vStart, el.vEnd), `${what} key ${JSON.stringify(k)}`, at), what: `${what}/${k}`, depth: 1 });
    } else crc = crc32c(page.subarray(el.vStart, el.vEnd), crc);
  }
  return crc;
}

/**
 * etcd's bytesToRev on a page's last key: its first 8 bytes are the big-endian main revision
 * (signed, as Go's int64 cast). Copies them into `into`.
 */
function lastKeyMain(pager: Pager, page: Buffer, pgid: number, into: Buffer): void {
  const el = leafElement(page, u16(page, 10) - 1);
  const klen = el.vStart - el.kStart;
  if (klen < 17) {
    throw pager.fail('etcd', Math.max(pgid, 0), `the last key of bucket "key" is ${klen} bytes; etcd revision keys are 17 bytes (main, '_', sub)`);
  }
  page.copy(into, 0, el.kStart, el.kStart + 8);
}

/** Reads the persisted freelist (if any) and marks its pages used and its ids free. */
function readFreelist(pager: Pager, pages: PageMap): void {
  const id = pager.meta.freelist;
  if (id === undefined) return;
  const page = pager.read(id);
  const flags = u16(page, 8);
  if (flags !== FLAG_FREELIST) throw pager.fail('freelist', id, `meta points to it as the freelist but its type flags are 0x${flags.toString(16)}`);
  pages.use(id, page.length, 'the freelist');
  let count = u16(page, 10);
  let at = PAGE_HEADER_SIZE;
  if (count === 0xffff) {
    // bbolt stores large counts in the first element instead.
    count = u64(page, at);
    at += 8;
  }
  if (!Number.isFinite(count) || at + count * 8 > page.length) throw pager.fail('freelist', id, `${count} free page ids do not fit in the ${page.length}-byte freelist page`);
  for (let i = 0; i < count; i++, at += 8) {
    const free = u64(page, at);
    if (!(free >= 2 && free < pager.highWater)) throw pager.fail('freelist', id, `lists free page ${Number.isFinite(free) ? free : '>= 2^53'}, outside pages 2..${pager.highWater - 1}`);
    const s = pages.state[free];
    if (s === PageMap.FREE) throw pager.fail('freelist', id, `lists page ${free} twice`);
    if (s === PageMap.USED) throw pager.fail('freelist', id, `lists page ${free}, which is a meta page or the freelist itself`);
    pages.state[free] = PageMap.FREE;
  }
}
