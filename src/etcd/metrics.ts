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

/** `agent`: a keep-alive agent, for a caller that scrapes every few seconds (no handshake each time). */
export function fetchText(url: string, conn: Connection, agent?: import('node:http').Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const tls = conn.tls ?? {};
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { timeout: conn.commandTimeoutMs, ...(agent ? { agent } : {}), ...(u.protocol === 'https:' ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) },
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

/**
 * The values of a few metric names in a Prometheus text page, each summed over its label sets
 * (a histogram's `_count` names its count). A line scan: a member's page is ~150 KB and a console
 * reads three every few seconds, where the full parser costs tens of milliseconds.
 */
export function metricValues(text: string, names: readonly string[]): Record<string, number> {
  const wanted = new Set(names);
  const out: Record<string, number> = {};
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (text.charCodeAt(start) !== 35 /* # */ && end > start) {
      const line = text.slice(start, end);
      const nameEnd = line.search(/[{ ]/);
      const name = nameEnd < 0 ? line : line.slice(0, nameEnd);
      if (wanted.has(name)) {
        const value = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (!Number.isNaN(value)) out[name] = (out[name] ?? 0) + value;
      }
    }
    start = end + 1;
  }
  return out;
}
