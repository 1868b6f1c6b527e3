import { createServiceApp, type HttpConfig, type Logger, type Readiness, type Registry } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';

export interface SinkAppDeps {
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /** Host allow-list, timeouts, TLS (the service's configuration). */
  http?: Partial<HttpConfig>;
}

/** The sink service's HTTP face: health, readiness, metrics. Never listens. */
export function buildApp(deps: SinkAppDeps): FastifyInstance {
  return createServiceApp({
    service: 'sink',
    ...deps,
    openapi: { title: 'EHR severity pipeline: sink', description: 'The sink has no routes of its own: it lands scores and dead letters in the warehouse. Health, readiness and metrics.' },
  });
}
