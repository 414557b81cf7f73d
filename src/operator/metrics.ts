import { createServer, type Server } from 'node:http';
import { Gauge, Histogram, Registry } from 'prom-client';
import { fragmentation, type MemberSpace } from '../defrag/plan.js';
import { transformationMetric } from '../storage/metrics.js';

/** The operator's Prometheus metrics: early warning before NOSPACE, and what the defrag controller did. */
export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly fragBytes = new Gauge({ name: 'etcd_ops_member_fragmented_bytes', help: 'Bytes a defragmentation would give back (db size minus size in use)', labelNames: ['member'], registers: [this.registry] });
  private readonly fragPct = new Gauge({ name: 'etcd_ops_member_fragmentation_percent', help: 'Share of the db file that is free pages, in percent', labelNames: ['member'], registers: [this.registry] });
  private readonly quotaPct = new Gauge({ name: 'etcd_ops_member_quota_usage_percent', help: 'db size as a percentage of the backend quota', labelNames: ['member'], registers: [this.registry] });
  private readonly dbBytes = new Gauge({ name: 'etcd_ops_member_db_size_bytes', help: 'Physically allocated size of the backend db', labelNames: ['member'], registers: [this.registry] });
  private readonly quotaBytes = new Gauge({ name: 'etcd_ops_member_quota_bytes', help: 'The backend quota', labelNames: ['member'], registers: [this.registry] });
  private readonly nospace = new Gauge({ name: 'etcd_ops_nospace_alarm_active', help: '1 while a NOSPACE alarm is raised', registers: [this.registry] });
  private readonly defragSeconds = new Histogram({ name: 'etcd_ops_defrag_duration_seconds', help: 'How long a member defragmentation took', labelNames: ['member'], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300], registers: [this.registry] });
  /** The migration's reads and writes of values, as the API server counts its own. */
  readonly observeTransform = transformationMetric(this.registry);
  private readonly lastSuccess = new Gauge({ name: 'etcd_ops_defrag_last_success_timestamp_seconds', help: 'When a member was last defragmented successfully (Unix time)', labelNames: ['member'], registers: [this.registry] });

  observeSpace(members: MemberSpace[]): void {
    for (const m of members) {
      if (!m.healthy) continue;
      const member = m.name ?? m.endpoint;
      this.fragBytes.set({ member }, m.dbSize - m.dbSizeInUse);
      this.fragPct.set({ member }, fragmentation(m) * 100);
      this.quotaPct.set({ member }, m.dbQuota ? (m.dbSize / m.dbQuota) * 100 : 0);
      this.dbBytes.set({ member }, m.dbSize);
      this.quotaBytes.set({ member }, m.dbQuota);
    }
  }

  observeAlarms(nospace: boolean): void {
    this.nospace.set(nospace ? 1 : 0);
  }

  observeDefrag(member: string, seconds: number, when: Date): void {
    this.defragSeconds.observe({ member }, seconds);
    this.lastSuccess.set({ member }, when.getTime() / 1000);
  }

  serve(port: number, host = '127.0.0.1'): Promise<Server> {
    const server = createServer(async (req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': this.registry.contentType });
      res.end(await this.registry.metrics());
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
