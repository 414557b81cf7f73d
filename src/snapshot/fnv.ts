/**
 * FNV-1a 64, as Go's hash/fnv New64a: bbolt checksums its meta pages with it.
 * Done in two 32-bit halves (the prime 0x100000001b3 is 2^40 + 0x1b3), so no bigint per byte.
 */
export function fnv1a64(data: Uint8Array, start = 0, end = data.length): bigint {
  // offset basis 0xcbf29ce484222325
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = start; i < end; i++) {
    lo = (lo ^ data[i]) >>> 0;
    // (hi:lo) * (2^40 + 0x1b3) mod 2^64 = (hi:lo)*0x1b3 + (lo << 40)
    const loMul = lo * 0x1b3; // < 2^41, exact
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
