import type { RawEvent, ValidationIssue } from '@ehr/features';
import { createServiceApp, problemResponses, sendProblem, type Authenticator, type ServiceAppDeps } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';
import { checkEvent, type IntakeClock } from './event-checks.js';
import { registerFhirRoutes } from './fhir-routes.js';
import { IntakeUnavailableError, RETRY_AFTER_OVERLOADED_S, RETRY_AFTER_UNAVAILABLE_S, type Intake } from './intake.js';
import { acceptedSchema, eventBatchSchema, PRODUCER_OPENAPI, undocumentedValidation } from './openapi.js';

export interface ProducerAppDeps extends ServiceAppDeps {
  /** Deadline-bound, concurrency-bound publishing for the intake routes. */
  intake: Intake;
  /** Who may ingest (the ingest scope). */
  auth: Authenticator;
  bodyLimit: number;
  maxBatchEvents: number;
  /** The wall clock and MAX_FUTURE_SKEW: events dated further ahead are refused (future_event). */
  clock: IntakeClock;
}

/** JSON with keys sorted at every level: the same event written with its keys in another order is the same event. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
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
    openapi: PRODUCER_OPENAPI,
    ...(deps.http ? { http: deps.http } : {}),
  });
  const intakeHooks = [deps.auth.require('ingest'), deps.intake.admit];

  // In a plugin, so that the OpenAPI generator (loaded by createServiceApp) sees the routes.
  app.register(async (api) => {
    // A batch in the project's own schema. All or nothing: a batch with one bad event is
    // refused whole, with every bad event named, so a client can fix and resend it.
    api.post(
      '/events',
      {
        schema: {
          summary: 'Ingest a batch of raw events in the project schema',
          description:
            'All or nothing: 202 with the count, or 400 naming every invalid event (index, reason, field) in `errors`. 413 past the batch or body limit. Needs the ingest scope.',
          tags: ['events'],
          body: eventBatchSchema,
          security: [{ bearer: [] }],
          response: {
            202: acceptedSchema,
            ...problemResponses({
              400: 'the body is not a batch, or some events are invalid (none accepted): `errors` has one entry per invalid event {index, reason, issues}; two different events with one `eventId` in a request are `duplicate_id_conflict`',
              413: `more events than MAX_BATCH_EVENTS, or a body past the body limit`,
              429: `too many ingest requests in flight: retry after Retry-After (${RETRY_AFTER_OVERLOADED_S} s)`,
              503: `the broker did not confirm in time or is down: retry the same events after Retry-After (${RETRY_AFTER_UNAVAILABLE_S} s); duplicates are dropped`,
            }),
          },
        },
        onRequest: intakeHooks,
        ...undocumentedValidation,
      },
      async (request, reply) => {
        const body: unknown = request.body;
        const list: unknown = Array.isArray(body) ? body : (body as { events?: unknown } | null)?.events;
        if (!Array.isArray(list)) {
          return sendProblem(reply, 400, { type: 'invalid-batch', title: 'The body is not a batch of events', detail: 'body must be an array of events or {"events": [...]}' });
        }
        if (list.length > deps.maxBatchEvents) {
          return sendProblem(reply, 413, { type: 'batch-too-large', title: 'Too many events in one request', detail: `at most ${deps.maxBatchEvents} events per request (got ${list.length})`, maxEvents: deps.maxBatchEvents });
        }
        const events: RawEvent[] = [];
        const errors: EventError[] = [];
        const byId = new Map<string, { index: number; event: RawEvent }>();
        list.forEach((item, index) => {
          const result = checkEvent(item, deps.clock);
          if (!result.ok) return void errors.push({ index, reason: result.reason, issues: result.issues });
          // One id, two different events: downstream the second would be dropped as a retry of
          // the first after this 202. The same event twice is a retry, and harmless. (Compared
          // only when an id repeats: the common request pays one map lookup per event.)
          const first = byId.get(result.value.eventId);
          if (first && canonicalJson(first.event) !== canonicalJson(result.value)) {
            const message = `eventId ${JSON.stringify(result.value.eventId)} is also events[${first.index}]'s, with different content: an event id names one event`;
            return void errors.push({ index, reason: 'duplicate_id_conflict', issues: [{ path: 'eventId', message }] });
          }
          if (!first) byId.set(result.value.eventId, { index, event: result.value });
          events.push(result.value);
        });
        if (errors.length > 0) {
          return sendProblem(reply, 400, { type: 'invalid-events', title: 'Some events are invalid; none were accepted', detail: `${errors.length} of ${list.length} events are invalid; none were accepted`, errors });
        }
        try {
          await deps.intake.publish(request, events);
        } catch (err) {
          if (!(err instanceof IntakeUnavailableError)) throw err;
          return sendProblem(reply.headers(err.headers), 503, { type: 'intake-unavailable', title: 'Intake cannot publish now', detail: err.message, retryAfterSeconds: RETRY_AFTER_UNAVAILABLE_S });
        }
        return reply.code(202).send({ accepted: events.length });
      },
    );

    registerFhirRoutes(api, { publish: (request, events) => deps.intake.publish(request, events), onRequest: intakeHooks, maxEntries: deps.maxBatchEvents, clock: deps.clock });
  });

  return app;
}
