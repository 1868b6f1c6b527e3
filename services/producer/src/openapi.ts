// The producer's part of the OpenAPI description (createServiceApp serves it at /openapi.json
// and /docs). Route schemas document the bodies; the handlers validate by themselves so that
// errors name the event or FHIR element.
import { RawEvent } from '@ehr/features';

/** Route options that keep a body schema in the docs without Fastify validating or serialising with it. */
export const undocumentedValidation = {
  validatorCompiler: () => () => true,
  serializerCompiler: () => (data: unknown) => JSON.stringify(data),
};

// TypeBox schemas carry symbols and $ids; the docs want plain JSON Schema.
const plain = (schema: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(schema, (key, value: unknown) => (key === '$id' ? undefined : value))) as Record<string, unknown>;

export const rawEventSchema = plain(RawEvent);

export const eventBatchSchema = {
  description: 'A batch of raw events in the project schema (packages/features/schemas), as an array or as {"events": [...]}',
  oneOf: [
    { type: 'array', items: rawEventSchema },
    { type: 'object', required: ['events'], properties: { events: { type: 'array', items: rawEventSchema } } },
  ],
};

export const observationSchema = {
  description: 'A FHIR R4 Observation (http://hl7.org/fhir/R4/observation.html): vital signs or laboratory, coded in LOINC',
  type: 'object',
  required: ['resourceType', 'status', 'code', 'subject'],
  properties: {
    resourceType: { type: 'string', enum: ['Observation'] },
    id: { type: 'string' },
    status: { type: 'string', enum: ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'] },
    code: { type: 'object', description: 'LOINC coding, e.g. 8867-4 heart rate, 85354-9 blood-pressure panel' },
    subject: { type: 'object', description: 'Patient reference' },
    encounter: { type: 'object' },
    effectiveDateTime: { type: 'string' },
    effectiveInstant: { type: 'string' },
    effectivePeriod: { type: 'object' },
    valueQuantity: { type: 'object', properties: { value: { type: 'number' }, unit: { type: 'string' }, system: { type: 'string' }, code: { type: 'string' } } },
    component: { type: 'array', items: { type: 'object' } },
  },
  additionalProperties: true,
};

export const bundleSchema = {
  description: 'A FHIR R4 Bundle (http://hl7.org/fhir/R4/bundle.html)',
  type: 'object',
  required: ['resourceType', 'type'],
  properties: {
    resourceType: { type: 'string', enum: ['Bundle'] },
    type: { type: 'string', enum: ['transaction', 'batch', 'collection', 'transaction-response', 'batch-response'] },
    entry: { type: 'array', items: { type: 'object', properties: { resource: { type: 'object' }, request: { type: 'object' }, response: { type: 'object' } } } },
  },
  additionalProperties: true,
};

/** The producer's document: title, description and tags (createServiceApp registers the generator). */
export const PRODUCER_OPENAPI = {
  title: 'EHR severity pipeline: producer',
  description:
    'Raw clinical events in: the project schema (POST /events) and FHIR R4 Observations (POST /fhir/Observation, POST /fhir; GET /fhir/metadata says what is supported). Health, readiness and metrics are under /health and /metrics. The ingest doors need a bearer token with the ingest scope (AUTH_INGEST_TOKENS or AUTH_ADMIN_TOKENS; open only on loopback without tokens).',
  tags: [
    { name: 'events', description: 'the project schema' },
    { name: 'fhir', description: 'FHIR R4' },
  ],
};

/** What POST /events answers when it accepts a batch. */
export const acceptedSchema = {
  description: 'every event was accepted',
  type: 'object',
  required: ['accepted'],
  properties: { accepted: { type: 'integer', minimum: 0, description: 'events accepted' } },
};
