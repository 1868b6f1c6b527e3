import type { RawEvent, ValidationIssue } from '@ehr/features';
import { createServiceApp, type Authenticator, type HttpConfig, type Logger, type Readiness, type Registry } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';
import { checkEvent, type IntakeClock } from './event-checks.js';
import { registerFhirRoutes } from './fhir-routes.js';
import { IntakeUnavailableError, type Intake } from './intake.js';
import { eventBatchSchema, registerOpenApi, undocumentedValidation } from './openapi.js';

export interface ProducerAppDeps {
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /** Deadline-bound, concurrency-bound publishing for the intake routes. */
  intake: Intake;
  /** Who may ingest (the ingest scope). */
  auth: Authenticator;
  /** Host allow-list, timeouts, TLS (the service's configuration). */
  http?: Partial<HttpConfig>;
  bodyLimit: number;
  maxBatchEvents: number;
  /** The wall clock and MAX_FUTURE_SKEW: events dated further ahead are refused (future_event). */
  clock: IntakeClock;
}

interface EventError {
  index: number;
  reason: string;
  issues: ValidationIssue[];
}

/**
 * The producer's HTTP face: health, readiness, metrics, `POST /events`, FHIR R4,
 * `/openapi.json`. The intake routes need the ingest scope (checked before the body is
 * read), are bounded in number (429) and in time (503 with Retry-After). Never listens.
 */
export function buildApp(deps: ProducerAppDeps): FastifyInstance {
  const app = createServiceApp({
    service: 'producer',
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    bodyLimit: deps.bodyLimit,
    ...(deps.http ? { http: deps.http } : {}),
  });
  const intakeHooks = [deps.auth.require('ingest'), deps.intake.admit];

  // The OpenAPI plugin must see the routes being added, so they are declared after it loads.
  registerOpenApi(app);
  app.register(async (api) => {
    api.get('/openapi.json', { schema: { hide: true } }, async () => api.swagger());

    // A batch in the project's own schema. All or nothing: a batch with one bad event is
    // refused whole, with every bad event named, so a client can fix and resend it.
    api.post(
      '/events',
      {
        schema: {
          summary: 'Ingest a batch of raw events in the project schema',
          description: 'All or nothing: 202 with the count, or 400 naming every invalid event (index, reason, field). 413 past the batch or body limit.',
          tags: ['events'],
          body: eventBatchSchema,
          security: [{ bearer: [] }],
        },
        onRequest: intakeHooks,
        ...undocumentedValidation,
      },
      async (request, reply) => {
        const body: unknown = request.body;
        const list: unknown = Array.isArray(body) ? body : (body as { events?: unknown } | null)?.events;
        if (!Array.isArray(list)) {
          return reply.code(400).send({ error: 'body must be an array of events or {"events": [...]}' });
        }
        if (list.length > deps.maxBatchEvents) {
          return reply.code(413).send({ error: `at most ${deps.maxBatchEvents} events per request (got ${list.length})` });
        }
        const events: RawEvent[] = [];
        const errors: EventError[] = [];
        list.forEach((item, index) => {
          const result = checkEvent(item, deps.clock);
          if (result.ok) events.push(result.value);
          else errors.push({ index, reason: result.reason, issues: result.issues });
        });
        if (errors.length > 0) {
          return reply.code(400).send({ error: `${errors.length} of ${list.length} events are invalid; none were accepted`, errors });
        }
        try {
          await deps.intake.publish(request, events);
        } catch (err) {
          if (!(err instanceof IntakeUnavailableError)) throw err;
          return reply.code(503).headers(err.headers).send({ error: 'unavailable', message: err.message });
        }
        return reply.code(202).send({ accepted: events.length });
      },
    );

    registerFhirRoutes(api, { publish: (request, events) => deps.intake.publish(request, events), onRequest: intakeHooks, maxEntries: deps.maxBatchEvents, clock: deps.clock });
  });

  return app;
}
