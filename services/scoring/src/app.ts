import { createServiceApp, type Logger, type Readiness, type Registry } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';

export interface ScoringAppDeps {
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
}

/** The scoring service's HTTP face: health, readiness, metrics. Never listens. */
export function buildApp(deps: ScoringAppDeps): FastifyInstance {
  return createServiceApp({ service: 'scoring', ...deps });
}
