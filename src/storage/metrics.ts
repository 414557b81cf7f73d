import { Counter, type Registry } from 'prom-client';
import type { TransformObserver } from './store.js';

/**
 * kube-apiserver's apiserver_storage_transformation_operations_total, for whatever process stores
 * through a Store: the API server, and the operator while it migrates.
 */
export function transformationMetric(registry: Registry): TransformObserver {
  const counter = new Counter({
    name: 'apiserver_storage_transformation_operations_total',
    help: 'Total number of value transformations, by direction, provider and outcome.',
    labelNames: ['transformation_type', 'transformer_prefix', 'status'] as const,
    registers: [registry],
  });
  return (direction, provider, ok) => counter.inc({ transformation_type: direction, transformer_prefix: provider, status: ok ? 'OK' : 'Error' });
}
