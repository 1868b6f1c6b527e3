import { fileURLToPath } from 'node:url';
import { createServiceApp, type Authenticator, type HttpConfig, type Logger, type Readiness, type Registry } from '@ehr/runtime';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { registerAlertRoutes } from './alerts.js';
import type { HealthPoller } from './health.js';
import { crossSite, registerLogin } from './login.js';
import type { Sessions } from './session.js';
import type { WardStream } from './stream.js';
import type { WardState } from './ward.js';

export interface DashboardAppDeps {
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  ward: WardState;
  stream: WardStream;
  health: HealthPoller;
  /** Who may see the ward (the read scope), by bearer token or session cookie. */
  auth: Authenticator;
  sessions: Sessions;
  /** The alerting service's base URL, or null: the ward's alerts are read and answered there. */
  alertingUrl?: () => string | null;
  /** Host allow-list, timeouts, TLS, trusted proxies (the service's configuration). */
  http?: Partial<HttpConfig>;
}

/** The page's files: plain HTML, CSS and ES modules, served as they are (no build step). */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the
  // login form's own POST, which the cross-site check must then refuse.
  'referrer-policy': 'same-origin',
};

/**
 * The dashboard's HTTP face: the page (`/`), its live feed (`/events`, server-sent
 * events), JSON for tools (`/api/ward`, `/api/patients/:patientId`, `/api/services`), the
 * ward's open alerts and their acknowledge and dismiss (`/api/alerts`, from the alerting service),
 * and health, readiness, metrics. Everything but health, metrics and the login form
 * needs the read scope. Never listens.
 */
export function buildApp(deps: DashboardAppDeps): FastifyInstance {
  const { ward, stream, health } = deps;
  const app = createServiceApp({ service: 'dashboard', logger: deps.logger, metrics: deps.metrics, readiness: deps.readiness, ...(deps.http ? { http: deps.http } : {}) });
  const credentialOf = registerLogin(app, { auth: deps.auth, sessions: deps.sessions, pageHeaders: SECURITY_HEADERS });
  registerAlertRoutes(app, { alertingUrl: deps.alertingUrl ?? (() => null), auth: deps.auth, credentialOf, crossSite, logger: deps.logger });

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

  app.get('/events', (request, reply) => {
    const admission = stream.admit(request.ip);
    if (!admission.ok) return reply.code(admission.status).header('retry-after', '10').send({ error: admission.status === 429 ? 'too_many_requests' : 'unavailable', message: admission.message });
    reply.hijack();
    stream.attach(reply.raw, request.ip);
  });

  // The same serialized snapshot a new page gets: built once per change, not per request.
  app.get('/api/ward', async (_request, reply) => reply.type('application/json; charset=utf-8').send(stream.snapshotJson()));

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
