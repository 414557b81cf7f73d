/**
 * Child process for bench/snapshot-write.ts: one rewrite of a db with the bbolt writer, so
 * its wall time, CPU and peak RSS can be measured alone (/usr/bin/time -v).
 *
 *   node --import tsx bench/lib/rewrite-db.ts SRC OUT [BUMP]
 */
import { rewriteDb } from '../../src/restore/rewrite.js';

const [src, out, bump] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const r = rewriteDb(src, { out, bump: bump ? BigInt(bump) : undefined });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(`${JSON.stringify({ ms, pages: r.pages, keys: r.keys, bytes: r.bytes, rssMiB: process.memoryUsage().rss / 1048576 })}\n`);
