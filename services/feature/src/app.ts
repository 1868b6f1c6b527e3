import { createServiceApp, type HttpConfig, type Logger, type Readiness, type Registry } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';

export interface FeatureAppDeps {
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /** Host allow-list, timeouts, TLS (the service's configuration). */
  http?: Partial<HttpConfig>;
}

/** The feature service's HTTP face: health, readiness, metrics. Never listens. */
export function buildApp(deps: FeatureAppDeps): FastifyInstance {
  return createServiceApp({
    service: 'feature',
    ...deps,
    openapi: { title: 'EHR severity pipeline: feature', description: 'The feature service has no routes of its own: it consumes raw events and publishes feature vectors. Health, readiness and metrics.' },
  });
}
