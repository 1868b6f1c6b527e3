import { createServiceApp, type ServiceAppDeps } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';

export type FeatureAppDeps = ServiceAppDeps;

const openapi = { title: 'EHR severity pipeline: feature', description: 'The feature service has no routes of its own: it consumes raw events and publishes feature vectors. Health, readiness and metrics.' };

/** The feature service's HTTP face: health, readiness, metrics. Never listens. */
export function buildApp(deps: FeatureAppDeps): FastifyInstance {
  return createServiceApp({ service: 'feature', ...deps, openapi });
}
