/** etcd prints member IDs as lowercase hex of the uint64; the gRPC client hands them over as decimal strings. */
export function memberIdHex(id: string | bigint | number): string {
  return BigInt(id).toString(16);
}

export function big(v: string | number | bigint | undefined | null): bigint {
  return v === undefined || v === null || v === '' ? 0n : BigInt(v);
}
