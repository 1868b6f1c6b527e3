import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

/**
 * One registry per service instance (never prom-client's global one), so four services
 * in one process (`npm start`) and parallel tests each expose only their own metrics.
 */
export function createMetricsRegistry(service: string, options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'ehr_' });
  return registry;
}
