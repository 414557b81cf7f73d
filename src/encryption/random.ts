import { randomFillSync } from 'node:crypto';

/**
 * IVs and nonces from the CSPRNG, drawn from a pool: one randomFillSync call costs ~10 µs however
 * few bytes it returns, more than encrypting a small Secret. Every pool byte is handed out once,
 * as Node's own randomUUID cache does.
 */
const POOL_SIZE = 8192;
const pool = Buffer.alloc(POOL_SIZE);
let used = POOL_SIZE;

/** Writes `n` fresh random bytes into `dst` at `offset` and returns that slice. */
export function randomInto(dst: Buffer, offset: number, n: number): Buffer {
  if (n > POOL_SIZE) return randomFillSync(dst, offset, n).subarray(offset, offset + n);
  if (used + n > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  pool.copy(dst, offset, used, used + n);
  // Spent bytes are wiped so a later heap dump cannot replay past IVs against the next ones.
  pool.fill(0, used, used + n);
  used += n;
  return dst.subarray(offset, offset + n);
}
