import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The backup controller's metrics, labelled by the Backup (schedule) a run belongs to, or
 * "etcdbackup" for one-off runs. Gauges are set from the API objects on every sync, so a new
 * leader reports the same values as the one before it.
 */
export class BackupMetrics {
  readonly lastSuccess: Gauge;
  readonly lastVerified: Gauge;
  readonly duration: Histogram;
  readonly size: Gauge;
  readonly failures: Counter;
  readonly interval: Gauge;
  readonly drillPassed: Gauge;
  readonly retained: Gauge;
  readonly retentionLimit: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.lastSuccess = new Gauge({ name: 'etcd_ops_backup_last_success_timestamp_seconds', help: 'When the last backup completed (Unix time)', labelNames: ['backup'], registers });
    this.lastVerified = new Gauge({ name: 'etcd_ops_backup_last_verified_timestamp_seconds', help: 'When a restore drill last proved a backup (Unix time)', labelNames: ['backup'], registers });
    this.duration = new Histogram({ name: 'etcd_ops_backup_duration_seconds', help: 'How long a backup took, snapshot to record (the drill excluded)', labelNames: ['backup'], buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800], registers });
    this.size = new Gauge({ name: 'etcd_ops_backup_size_bytes', help: 'Size of the last backup (snapshot and resources archive, as stored)', labelNames: ['backup'], registers });
    this.failures = new Counter({ name: 'etcd_ops_backup_failures_total', help: 'Backups that failed or were skipped, drills that failed, copies that failed, by reason', labelNames: ['reason'], registers });
    this.interval = new Gauge({ name: 'etcd_ops_backup_schedule_interval_seconds', help: "Seconds between two of the schedule's times", labelNames: ['backup'], registers });
    this.drillPassed = new Gauge({ name: 'etcd_ops_backup_last_drill_success', help: '1 when the latest drill passed, 0 when it failed', labelNames: ['backup'], registers });
    this.retained = new Gauge({ name: 'etcd_ops_backup_retained_bytes', help: "Bytes of the backups kept in the schedule's folder", labelNames: ['backup'], registers });
    this.retentionLimit = new Gauge({ name: 'etcd_ops_backup_retention_size_bytes', help: 'The RetentionSize limit (maxSizeOfBackupsGb), in bytes', labelNames: ['backup'], registers });
  }
}
