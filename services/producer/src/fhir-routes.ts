// FHIR R4 ingestion: `POST /fhir/Observation` (one Observation) and `POST /fhir` (a
// transaction, batch or collection Bundle), and `GET /fhir/metadata` (what of it is
// supported). Valid Observations become raw events; invalid ones get an OperationOutcome
// naming the element; codes we do not use are reported. Every other error under /fhir
// (unknown path, 405, bad JSON, 413, tokens, 429, 503) is an OperationOutcome from @ehr/runtime.
import type { RawEvent } from '@ehr/features';
import { mapBundle, mapObservation, operationOutcome, type FhirIssue, type ObservationMapping } from '@ehr/cohort';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { FHIR_JSON, OperationOutcomeSchema, operationOutcomeResponses } from '@ehr/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { refuseInvalidEvents, type IntakeClock } from './event-checks.js';
import { capabilityStatement, capabilityStatementSchema } from './fhir-capability.js';
import { bundleSchema, observationSchema, undocumentedValidation } from './openapi.js';

export const FHIR_CONTENT_TYPE = FHIR_JSON;

const fhirJson = (description: string, schema: unknown) => ({ description, content: { [FHIR_JSON]: { schema } } });

const INTAKE_ERRORS = {
  429: 'too many ingest requests in flight: retry after Retry-After',
  503: 'the broker did not confirm in time or is down: retry after Retry-After with the same resources',
};

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

  app.get(
    '/fhir/metadata',
    {
      schema: {
        summary: 'The FHIR R4 CapabilityStatement of intake: what this server accepts',
        tags: ['fhir'],
        response: { 200: fhirJson('a CapabilityStatement (kind instance, FHIR 4.0.1)', capabilityStatementSchema) },
      },
      ...undocumentedValidation,
    },
    async (_request, reply) => sendFhir(reply, 200, capabilityStatement({ maxEntries: options.maxEntries })),
  );

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
        response: {
          200: fhirJson('valid, but nothing used: the OperationOutcome lists the codes the pipeline does not use', OperationOutcomeSchema),
          202: fhirJson('events accepted: the OperationOutcome says how many, and what was not used', OperationOutcomeSchema),
          ...operationOutcomeResponses({ 400: 'invalid: the OperationOutcome names each element and the reason', 413: 'a body past the body limit', ...INTAKE_ERRORS }),
        },
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
        response: {
          200: fhirJson('a transaction-response or batch-response Bundle: each entry with its status and OperationOutcome', bundleSchema),
          ...operationOutcomeResponses({
            400: 'not a supported Bundle, or (transaction) an entry is invalid: the OperationOutcome names every problem',
            413: 'more entries than MAX_BATCH_EVENTS, or a body past the body limit',
            ...INTAKE_ERRORS,
          }),
        },
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
