// The ward's alerts, through the dashboard: the page lists the open alerts and acknowledges or
// dismisses them here, and this forwards each call to the alerting service's HTTP API. Chosen
// over following ehr.alerts.v1 because the alerting service owns the alert state (one writer of
// alert events): its GET /alerts is the whole current list, escalations and acknowledgements
// included, whereas the dashboard's consumer starts at the end of the topic and would miss every
// alert raised before it started, or have to rebuild the state machine from the events. Each call
// carries the signed-in person's own token, so the alerting service checks their scope itself.
import { AlertActor, compileValidator, DismissReasonSchema, EventId } from '@ehr/features';
import { errorMessage, problemResponses, sendProblem, type Authenticator, type Credential, type Logger } from '@ehr/runtime';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** How long one call to the alerting service may take before the page is told it is unreachable. */
export const ALERTING_TIMEOUT_MS = 5_000;

export interface AlertRoutesOptions {
  /** The alerting service's base URL (the `alerting` entry of DASHBOARD_SERVICE_URLS), or null when there is none. */
  alertingUrl: () => string | null;
  auth: Authenticator;
  /** Who made this request (a session cookie or a bearer token), or null (open mode). */
  credentialOf: (request: FastifyRequest) => Credential | null;
  /** A POST sent by another site's page (see login.ts). */
  crossSite: (request: FastifyRequest) => boolean;
  logger: Logger;
  timeoutMs?: number;
}

const Params = Type.Object({ id: EventId }, { additionalProperties: false });
type Params = Static<typeof Params>;
const AcknowledgeBody = Type.Object({ by: Type.Optional(AlertActor) }, { additionalProperties: false });
const DismissBody = Type.Object({ reason: DismissReasonSchema, by: Type.Optional(AlertActor) }, { additionalProperties: false });
const bodies = { acknowledge: compileValidator(AcknowledgeBody, 'acknowledge body'), dismiss: compileValidator(DismissBody, 'dismiss body') } as const;

/** `GET /api/alerts`, `POST /api/alerts/:id/acknowledge` and `POST /api/alerts/:id/dismiss` (read scope, like every /api route). */
export function registerAlertRoutes(app: FastifyInstance, options: AlertRoutesOptions): void {
  const timeoutMs = options.timeoutMs ?? ALERTING_TIMEOUT_MS;

  /** One call to the alerting service, as the person who made `request`; its answer goes back as it is. */
  const forward = async (request: FastifyRequest, reply: FastifyReply, path: string, body?: unknown) => {
    const base = options.alertingUrl();
    // No alerting service in this deployment: nothing to list (204, not an error the page would log), nothing to act on (503).
    if (!base && body === undefined) return reply.code(204).send();
    if (!base) return sendProblem(reply, 503, { type: 'alerting-not-configured', title: 'No alerting service', detail: 'no alerting service is configured (DASHBOARD_SERVICE_URLS has no alerting=… entry)' });
    const credential = options.credentialOf(request);
    const token = credential ? options.auth.tokenOf(credential) : null;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetch(`${base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      // The alerting service's own answer, problems included, with its content type.
      return reply.code(response.status).type(response.headers.get('content-type') ?? 'application/json; charset=utf-8').send(text);
    } catch (err) {
      options.logger.warn({ err: errorMessage(err) }, 'alerting service unreachable');
      return sendProblem(reply, 502, { type: 'alerting-unreachable', title: 'The alerting service did not answer', detail: 'the alerting service did not answer; try again' });
    }
  };

  const secured = { security: [{ bearer: [] }] };
  const forwarded = { 502: 'the alerting service did not answer', 503: 'no alerting service is configured' };
  // After the OpenAPI generator has loaded, so that these are documented.
  app.after(() => {
    app.get(
      '/api/alerts',
      {
        schema: {
          summary: "The ward's alerts from the alerting service (open ones first, escalated apart); 204 when no alerting service is configured",
          tags: ['alerts'],
          ...secured,
          response: { 200: { description: "the alerting service's GET /alerts, as it answered" }, 204: { description: 'no alerting service in this deployment' }, ...problemResponses(forwarded) },
        },
      },
      async (request, reply) => forward(request, reply, '/alerts'),
    );

    for (const action of ['acknowledge', 'dismiss'] as const) {
      app.post<{ Params: Params }>(
        `/api/alerts/:id/${action}`,
        {
          schema: {
            summary: action === 'acknowledge' ? 'Acknowledge an alert as the signed-in person' : 'Dismiss an alert with a reason from the list, as the signed-in person',
            tags: ['alerts'],
            params: Params,
            ...secured,
            response: {
              200: { description: "the alert as the alerting service answered" },
              ...problemResponses({ 400: 'not a valid body', 403: 'from another site', 409: 'the alert is no longer open (alertStatus says what it became)', 415: 'not application/json', ...forwarded }),
            },
          },
        },
        async (request, reply) => {
          // The session cookie is SameSite=Strict already; this also covers the open mode (no cookie at all).
          if (options.crossSite(request)) return sendProblem(reply, 403, { type: 'cross-site-request', title: 'A request from another site', detail: `${action} from another site` });
          // JSON only: a page of another origin cannot send it without a CORS preflight, which is never granted.
          if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
            return sendProblem(reply, 415, { detail: 'send application/json' });
          }
          const checked = bodies[action].validate(request.body ?? {});
          if (!checked.ok) return sendProblem(reply, 400, { type: 'invalid-body', title: 'Not a valid body', detail: checked.error });
          return forward(request, reply, `/alerts/${encodeURIComponent(request.params.id)}/${action}`, checked.value);
        },
      );
    }
  });
}
