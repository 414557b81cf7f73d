/** OpenShift's defrag controller thresholds: at least 45 % fragmented and at least 100 MiB. */
export const DEFAULT_MIN_FRAGMENTATION = 0.45;
export const DEFAULT_MIN_DB_BYTES = 100 * 1024 * 1024;
/**
 * The size floor never exceeds this share of the quota: with a small quota (64 MiB, say) a fixed
 * 100 MiB floor could never be met, and a member would reach NOSPACE however fragmented.
 */
export const MIN_DB_QUOTA_FRACTION = 0.1;

/** The default rule in words, for help and output. */
export const DEFAULT_RULE_TEXT = `at least ${DEFAULT_MIN_FRAGMENTATION * 100} % fragmented and at least 100 MiB (or ${MIN_DB_QUOTA_FRACTION * 100} % of the quota when that is less)`;

/** Fragmented enough, and at least min(minDbBytes, 10 % of the quota) in size. */
export function thresholdRule(minFragmentation = DEFAULT_MIN_FRAGMENTATION, minDbBytes = DEFAULT_MIN_DB_BYTES): string {
  return `(dbSize >= ${minDbBytes} || dbQuota > 0 && dbSize >= ${MIN_DB_QUOTA_FRACTION} * dbQuota) && dbSizeFree / dbSize >= ${minFragmentation}`;
}
