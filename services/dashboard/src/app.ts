import { fileURLToPath } from 'node:url';
import { createServiceApp, problemResponses, sendProblem, type Authenticator, type ServiceAppDeps } from '@ehr/runtime';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { registerAlertRoutes } from './alerts.js';
import { registerFhirRoutes } from './fhir/routes.js';
import type { HealthPoller } from './health.js';
import { crossSite, registerLogin } from './login.js';
import type { Sessions } from './session.js';
import type { WardStream } from './stream.js';
import type { WardState } from './ward.js';

export interface DashboardAppDeps extends ServiceAppDeps {
  ward: WardState;
  stream: WardStream;
  health: HealthPoller;
  /** Who may see the ward (the read scope), by bearer token or session cookie. */
  auth: Authenticator;
  sessions: Sessions;
  /** The alerting service's base URL, or null: the ward's alerts are read and answered there. */
  alertingUrl?: () => string | null;
  /** Scores kept per patient (DASHBOARD_HISTORY_POINTS): what GET /fhir/RiskAssessment can show. */
  historyPoints: number;
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

const OPENAPI = {
  title: 'EHR severity pipeline: dashboard',
  description:
    'The ward page, its live feed (server-sent events), JSON for tools and scores as FHIR R4 RiskAssessments. Everything but health, metrics, the login form, this document and /fhir/metadata needs the read scope: a bearer token (AUTH_READ_TOKENS or AUTH_ADMIN_TOKENS) or the session cookie the login form sets.',
  tags: [
    { name: 'ward', description: 'the ward picture: JSON and the live feed' },
    { name: 'session', description: 'sign-in for browsers' },
    { name: 'fhir', description: 'FHIR R4 RiskAssessments' },
  ],
};

const json = (description: string) => ({ description, type: 'object', additionalProperties: true });
const secured = { security: [{ bearer: [] }] };

/**
 * The dashboard's HTTP face: the page (`/`), its live feed (`/events`, server-sent
 * events), JSON for tools (`/api/ward`, `/api/patients/:patientId`, `/api/services`), the
 * ward's open alerts and their acknowledge and dismiss (`/api/alerts`, from the alerting service),
 * scores as FHIR RiskAssessments (`/fhir/RiskAssessment`), and health, readiness, metrics.
 * Everything but health, metrics, the docs and the login form needs the read scope. Never listens.
 */
export function buildApp(deps: DashboardAppDeps): FastifyInstance {
  const { ward, stream, health } = deps;
  const app = createServiceApp({ service: 'dashboard', logger: deps.logger, metrics: deps.metrics, readiness: deps.readiness, openapi: OPENAPI, ...(deps.http ? { http: deps.http } : {}) });
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

  // After the OpenAPI generator (registered by createServiceApp) has loaded, so that it sees these.
  app.after(() => {
    app.get(
      '/events',
      {
        schema: {
          summary: 'The live ward feed: server-sent events (a snapshot, then updates)',
          tags: ['ward'],
          ...secured,
          response: { 200: { description: 'text/event-stream: `snapshot` and `update` events' }, ...problemResponses({ 429: 'too many streams from this address', 503: 'too many streams open' }) },
        },
      },
      (request, reply) => {
        const admission = stream.admit(request.ip);
        if (!admission.ok) {
          const type = admission.status === 429 ? 'too-many-streams-per-address' : 'too-many-streams';
          return sendProblem(reply.header('retry-after', '10'), admission.status, { type, title: 'No room for another live feed', detail: admission.message, retryAfterSeconds: 10 });
        }
        reply.hijack();
        stream.attach(reply.raw, request.ip);
      },
    );

    // The same serialized snapshot a new page gets: built once per change, not per request.
    app.get('/api/ward', { schema: { summary: 'The ward: every patient with the latest score and a sparkline, the alerts and the models seen', tags: ['ward'], ...secured } }, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(stream.snapshotJson()),
    );

    app.get<{ Params: { patientId: string } }>(
      '/api/patients/:patientId',
      {
        schema: {
          summary: "One patient's latest score and recent time series",
          tags: ['ward'],
          params: { type: 'object', properties: { patientId: { type: 'string' } }, required: ['patientId'] },
          ...secured,
          response: { 200: json('the latest score, flattened, with `hist`'), ...problemResponses({ 404: 'no recent score for this patient' }) },
        },
      },
      async (request, reply) => {
        const patient = ward.patient(request.params.patientId);
        if (!patient) return sendProblem(reply, 404, { type: 'patient-not-found', title: 'No recent score for this patient', detail: 'no recent score for this patient' });
        return patient;
      },
    );

    app.get('/api/services', { schema: { summary: 'The readiness of each pipeline service, as last polled', tags: ['ward'], ...secured } }, async () => health.list());

    registerFhirRoutes(app, { ward, historyPoints: deps.historyPoints });
  });

  // Open event streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => stream.stop());

  return app;
}
