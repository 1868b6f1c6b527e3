import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

/**
 * One registry per service instance (never prom-client's global one), so four services
 * in one process (`npm start`) and parallel tests each expose only their own metrics.
 * Node's default metrics keep their standard names (`process_cpu_seconds_total`,
 * `nodejs_heap_size_used_bytes`, …) so stock Node.js dashboards find them; the pipeline's
 * own are `ehr_*` with a unit suffix.
 */
export function createMetricsRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}
