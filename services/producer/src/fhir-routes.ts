// FHIR R4 ingestion: `POST /fhir/Observation` (one Observation) and `POST /fhir` (a
// transaction, batch or collection Bundle). Valid Observations become raw events; invalid
// ones get an OperationOutcome naming the element; codes we do not use are reported.
import type { RawEvent } from '@ehr/features';
import { mapBundle, mapObservation, operationOutcome, type FhirIssue, type ObservationMapping } from '@ehr/cohort';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { refuseInvalidEvents, type IntakeClock } from './event-checks.js';
import { IntakeUnavailableError } from './intake.js';
import { bundleSchema, observationSchema, operationOutcomeSchema, undocumentedValidation } from './openapi.js';

export const FHIR_CONTENT_TYPE = 'application/fhir+json';

export interface FhirRoutesOptions {
  /** Publishes within the intake deadline, or throws IntakeUnavailableError (503). */
  publish: (request: FastifyRequest, events: readonly RawEvent[]) => Promise<void>;
  /** Authentication and admission, before the body is read. */
  onRequest: onRequestHookHandler[];
  maxEntries: number;
  clock: IntakeClock;
}

const hasError = (issues: readonly FhirIssue[]) => issues.some((i) => i.severity === 'error' || i.severity === 'fatal');

function accepted(mapping: ObservationMapping): FhirIssue[] {
  const n = mapping.events.length;
  return [{ severity: 'information', code: 'informational', expression: '', diagnostics: `${n} event${n === 1 ? '' : 's'} accepted` }, ...mapping.issues];
}

const sendFhir = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).header('content-type', `${FHIR_CONTENT_TYPE}; charset=utf-8`).send(body);

export function registerFhirRoutes(app: FastifyInstance, options: FhirRoutesOptions): void {
  // FHIR clients send application/fhir+json; parse it as JSON, within the same body limit.
  app.addContentTypeParser(FHIR_CONTENT_TYPE, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.setErrorHandler((error: { statusCode?: number; message: string; code?: string }, request, reply) => {
    if (!request.url.startsWith('/fhir')) return reply.send(error);
    if (error instanceof IntakeUnavailableError) {
      return sendFhir(reply.headers(error.headers), 503, operationOutcome([{ severity: 'error', code: 'transient', expression: '', diagnostics: error.message }]));
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const code = status === 413 ? 'too-costly' : status < 500 ? 'structure' : 'exception';
    return sendFhir(reply, status, operationOutcome([{ severity: 'error', code, expression: '', diagnostics: status < 500 ? error.message : 'internal error' }]));
  });

  app.post(
    '/fhir/Observation',
    {
      schema: {
        summary: 'Ingest one FHIR R4 Observation (vital sign or laboratory result, LOINC-coded)',
        description:
          'Blood-pressure panels (85354-9) are read from their components. 202: events accepted; 200: valid but nothing used (codes not used by the pipeline are listed as warnings); 400: invalid, with an OperationOutcome naming the element and the reason.',
        tags: ['fhir'],
        consumes: [FHIR_CONTENT_TYPE, 'application/json'],
        body: observationSchema,
        response: { 200: operationOutcomeSchema, 202: operationOutcomeSchema, 400: operationOutcomeSchema, 413: operationOutcomeSchema, 503: operationOutcomeSchema },
        security: [{ bearer: [] }],
      },
      onRequest: options.onRequest,
      ...undocumentedValidation,
    },
    async (request, reply) => {
      const mapping = refuseInvalidEvents(mapObservation(request.body, { receivedAt: new Date() }), options.clock, 'Observation');
      if (!mapping.valid) return sendFhir(reply, 400, operationOutcome(mapping.issues));
      await options.publish(request, mapping.events);
      return sendFhir(reply, mapping.events.length > 0 ? 202 : 200, operationOutcome(accepted(mapping)));
    },
  );

  app.post(
    '/fhir',
    {
      schema: {
        summary: 'Ingest a FHIR R4 Bundle (transaction, batch or collection) of Observations',
        description:
          'transaction: all or nothing (400 with every problem if any entry is invalid). batch and collection: each entry on its own. The response is a transaction-response or batch-response Bundle whose entries carry a status and an OperationOutcome (events accepted, codes not used, or why the entry was refused).',
        tags: ['fhir'],
        consumes: [FHIR_CONTENT_TYPE, 'application/json'],
        body: bundleSchema,
        response: { 200: bundleSchema, 400: operationOutcomeSchema, 413: operationOutcomeSchema, 503: operationOutcomeSchema },
        security: [{ bearer: [] }],
      },
      onRequest: options.onRequest,
      ...undocumentedValidation,
    },
    async (request, reply) => {
      const mapped = mapBundle(request.body, { receivedAt: new Date(), maxEntries: options.maxEntries });
      const result = { ...mapped, entries: mapped.entries.map((e) => ({ ...e, mapping: refuseInvalidEvents(e.mapping, options.clock, `Bundle.entry[${e.index}].resource`) })) };
      if (hasError(result.issues)) {
        const tooMany = result.issues.some((i) => i.code === 'too-costly');
        return sendFhir(reply, tooMany ? 413 : 400, operationOutcome(result.issues));
      }
      const entryErrors = result.entries.flatMap((e) => e.mapping.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal'));
      if (result.type === 'transaction' && entryErrors.length > 0) {
        return sendFhir(reply, 400, operationOutcome(result.entries.flatMap((e) => e.mapping.issues)));
      }
      const events: RawEvent[] = result.entries.flatMap((e) => (e.mapping.valid ? e.mapping.events : []));
      await options.publish(request, events);
      const entry: BundleEntry[] = result.entries.map((e) => ({
        response: {
          status: !e.mapping.valid ? '400 Bad Request' : e.mapping.events.length > 0 ? '202 Accepted' : '200 OK',
          outcome: operationOutcome(e.mapping.valid ? accepted(e.mapping) : e.mapping.issues),
        },
      }));
      const response: Bundle = { resourceType: 'Bundle', type: result.type === 'transaction' ? 'transaction-response' : 'batch-response', entry };
      return sendFhir(reply, 200, response);
    },
  );
}
