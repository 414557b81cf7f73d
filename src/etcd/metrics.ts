import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { Connection } from './connection.js';

/** The metrics the seed's defragmentation procedure watches. */
export const SPACE_METRICS = [
  'etcd_server_quota_backend_bytes',
  'etcd_mvcc_db_total_size_in_use_in_bytes',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_debugging_mvcc_db_total_size_in_bytes',
] as const;

export interface SpaceMetrics {
  endpoint: string;
  quotaBytes?: number;
  inUseBytes?: number;
  totalBytes?: number;
  debuggingTotalBytes?: number;
  /** (db_total_size - in_use) / 1024 / 1024, as the seed computes it. */
  reclaimableMB?: number;
  error?: string;
}

export function fetchText(url: string, conn: Connection): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const tls = conn.tls ?? {};
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { timeout: conn.commandTimeoutMs, ...(u.protocol === 'https:' ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${conn.commandTimeoutMs / 1000}s`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ECONNREFUSED' ? new Error(`${url}: connection refused`) : err));
    req.end();
  });
}

export function spaceMetricsFromText(endpoint: string, text: string): SpaceMetrics {
  const values = new Map<string, number>();
  for (const family of parsePrometheusTextFormat(text)) {
    const v = family.metrics[0]?.value;
    if (v !== undefined) values.set(family.name, Number(v));
  }
  const m: SpaceMetrics = {
    endpoint,
    quotaBytes: values.get('etcd_server_quota_backend_bytes'),
    inUseBytes: values.get('etcd_mvcc_db_total_size_in_use_in_bytes'),
    totalBytes: values.get('etcd_mvcc_db_total_size_in_bytes'),
    debuggingTotalBytes: values.get('etcd_debugging_mvcc_db_total_size_in_bytes'),
  };
  if (m.totalBytes !== undefined && m.inUseBytes !== undefined) m.reclaimableMB = (m.totalBytes - m.inUseBytes) / 1024 / 1024;
  return m;
}

/** Scrapes each member's Prometheus endpoint (its metrics URL, else its client URL). */
export async function scrapeSpaceMetrics(conn: Connection, targets: Array<{ endpoint: string; metricsURL: string }>): Promise<SpaceMetrics[]> {
  return Promise.all(
    targets.map(async (t) => {
      try {
        return spaceMetricsFromText(t.endpoint, await fetchText(`${t.metricsURL}/metrics`, conn));
      } catch (err) {
        return { endpoint: t.endpoint, error: (err as Error).message };
      }
    }),
  );
}
