/** Prometheus metrics, named after kube-apiserver's where one exists. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { transformationMetric } from '../storage/metrics.js';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, group, resource, subresource and HTTP response code.',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, group and resource.',
    labelNames: ['verb', 'group', 'resource'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly watches = new Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Number of currently open watch streams, by resource.',
    labelNames: ['group', 'resource'] as const,
    registers: [this.registry],
  });
  readonly etcdReady = new Gauge({ name: 'etcd_ops_apiserver_etcd_ready', help: '1 when the last etcd check answered, else 0.', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  readonly observeTransform = transformationMetric(this.registry);
}
