import { createServiceApp, type ServiceAppDeps } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';

export type SinkAppDeps = ServiceAppDeps;

const openapi = { title: 'EHR severity pipeline: sink', description: 'The sink has no routes of its own: it lands scores and dead letters in the warehouse. Health, readiness and metrics.' };

/** The sink service's HTTP face: health, readiness, metrics. Never listens. */
export function buildApp(deps: SinkAppDeps): FastifyInstance {
  return createServiceApp({ service: 'sink', ...deps, openapi });
}
