// GET /fhir/metadata: the FHIR R4 CapabilityStatement of intake, so that a FHIR client can
// ask what this server takes before it sends anything. It says only what the routes in
// fhir-routes.ts do: Observation create, Bundle transaction/batch (and collection, read
// like a batch), Patient and Encounter inside a Bundle, JSON formats.
import { BP_PANEL_LOINC, LOINC_SIGNALS } from '@ehr/cohort';
import type { CapabilityStatement } from 'fhir/r4.js';

const FORMATS = ['json', 'application/fhir+json', 'application/json'];

export function capabilityStatement(options: { maxEntries: number }): CapabilityStatement {
  const loinc = [...LOINC_SIGNALS.keys(), ...BP_PANEL_LOINC].sort();
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-06',
    kind: 'instance',
    software: { name: 'EHR severity pipeline: producer' },
    implementation: { description: 'Intake of vital signs and laboratory results for real-time severity scoring' },
    fhirVersion: '4.0.1',
    format: FORMATS,
    rest: [
      {
        mode: 'server',
        documentation: `POST /fhir takes a transaction (all or nothing), batch or collection Bundle (each entry on its own) of at most ${options.maxEntries} entries. Errors are OperationOutcomes. Needs a bearer token with the ingest scope (SMART is not supported).`,
        security: { cors: false, description: 'Authorization: Bearer <token> with the ingest scope (AUTH_INGEST_TOKENS or AUTH_ADMIN_TOKENS)' },
        resource: [
          {
            type: 'Observation',
            interaction: [{ code: 'create', documentation: 'POST /fhir/Observation, or a POST (or PUT) entry of a Bundle' }],
            documentation: `Vital signs and laboratory results coded in LOINC (${loinc.join(', ')}); blood-pressure panels are read from their components. Other codes are reported back as not used, never dropped silently.`,
          },
          { type: 'Patient', documentation: 'only inside a Bundle: birth date and sex, for the patient the Observations name' },
          { type: 'Encounter', documentation: 'only inside a Bundle: admission, location and discharge of the stay' },
        ],
        interaction: [
          { code: 'transaction', documentation: 'POST /fhir with a transaction Bundle: every entry valid, or nothing accepted' },
          { code: 'batch', documentation: 'POST /fhir with a batch (or collection) Bundle: each entry accepted or refused on its own' },
        ],
      },
    ],
  };
}

/** Enough of the shape for the OpenAPI document. */
export const capabilityStatementSchema = {
  description: 'A FHIR R4 CapabilityStatement (http://hl7.org/fhir/R4/capabilitystatement.html)',
  type: 'object',
  required: ['resourceType', 'status', 'kind', 'fhirVersion', 'format'],
  properties: {
    resourceType: { type: 'string', enum: ['CapabilityStatement'] },
    status: { type: 'string' },
    kind: { type: 'string' },
    fhirVersion: { type: 'string' },
    format: { type: 'array', items: { type: 'string' } },
    rest: { type: 'array', items: { type: 'object' } },
  },
  additionalProperties: true,
};
