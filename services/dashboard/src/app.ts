import { fileURLToPath } from 'node:url';
import { createServiceApp, type Logger, type Readiness, type Registry } from '@ehr/runtime';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { HealthPoller } from './health.js';
import type { WardStream } from './stream.js';
import type { WardState } from './ward.js';

export interface DashboardAppDeps {
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  ward: WardState;
  stream: WardStream;
  health: HealthPoller;
}

/** The page's files: plain HTML, CSS and ES modules, served as they are (no build step). */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The dashboard's HTTP face: the page (`/`), its live feed (`/events`, server-sent
 * events), JSON for tools (`/api/ward`, `/api/patients/:patientId`, `/api/services`),
 * and health, readiness, metrics. Never listens.
 */
export function buildApp(deps: DashboardAppDeps): FastifyInstance {
  const { ward, stream, health } = deps;
  const app = createServiceApp({ service: 'dashboard', logger: deps.logger, metrics: deps.metrics, readiness: deps.readiness });

  void app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    cacheControl: true,
    maxAge: 0,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });

  app.get('/events', (_request, reply) => {
    reply.hijack();
    stream.attach(reply.raw);
  });

  app.get('/api/ward', async () => stream.snapshot());

  app.get<{ Params: { patientId: string } }>('/api/patients/:patientId', async (request, reply) => {
    const patient = ward.patient(request.params.patientId);
    if (!patient) return reply.code(404).send({ error: 'not_found', message: 'no recent score for this patient' });
    return patient;
  });

  app.get('/api/services', async () => health.list());

  // Open event streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => stream.stop());

  return app;
}
