// FHIR out: GET /fhir/RiskAssessment?subject=Patient/<id> (also subject=<id>, patient=<id>)
// answers a searchset Bundle of the patient's recent scores, the ones the ward keeps in
// memory (DASHBOARD_HISTORY_POINTS per patient); GET /fhir/metadata says so. The read scope
// is checked by the ward's gate (login.ts) like every other door; metadata is open.
import { FHIR_JSON, operationOutcomeResponses } from '@ehr/runtime';
import type { CapabilityStatement, OperationOutcome } from 'fhir/r4.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WardState } from '../ward.js';
import { riskAssessmentBundle } from './risk-assessment.js';

const sendFhir = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).type(`${FHIR_JSON}; charset=utf-8`).send(JSON.stringify(body));

const fhirJson = (description: string) => ({ description, content: { [FHIR_JSON]: { schema: { type: 'object', additionalProperties: true } } } });

function required(diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'required', diagnostics, expression: ['subject'] }] };
}

/** `Patient/123`, `https://…/Patient/123` or `123` → `123`; null for a reference to another type. */
export function patientIdOf(value: string): string | null {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return value;
  const type = value.slice(0, slash).split('/').pop();
  return type === 'Patient' && slash < value.length - 1 ? value.slice(slash + 1) : null;
}

type Query = Record<string, string | string[] | undefined>;

/** The one subject of the search, or why the search cannot run. */
function subjectOf(query: Query): { id: string } | { problem: string } {
  const given = (['subject', 'patient'] as const).flatMap((name) => {
    const value = query[name];
    return value === undefined ? [] : Array.isArray(value) ? value.map((v) => ({ name, v })) : [{ name, v: value }];
  });
  if (given.length === 0) return { problem: 'subject (or patient) is required: GET /fhir/RiskAssessment?subject=Patient/<id>' };
  const ids = new Set<string>();
  for (const { name, v } of given) {
    const id = patientIdOf(v.trim());
    if (!id) return { problem: `${name} must be a Patient reference (Patient/<id>) or a patient id, got ${JSON.stringify(v).slice(0, 80)}` };
    ids.add(id);
  }
  if (ids.size > 1) return { problem: 'one patient per search: subject and patient name different patients' };
  return { id: [...ids][0]! };
}

function capabilityStatement(historyPoints: number): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-12-06',
    kind: 'instance',
    software: { name: 'EHR severity pipeline: dashboard' },
    implementation: { description: `Severity scores as RiskAssessments: the recent scores of each patient on the ward, kept in memory (at most ${historyPoints} per patient)` },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: { cors: false, description: 'Authorization: Bearer <token> with the read scope (AUTH_READ_TOKENS or AUTH_ADMIN_TOKENS)' },
        resource: [
          {
            type: 'RiskAssessment',
            interaction: [{ code: 'search-type', documentation: 'newest first; an unknown patient gives an empty Bundle' }],
            searchParam: [
              { name: 'subject', type: 'reference', documentation: 'Patient/<id> or <id> (required, or patient)' },
              { name: 'patient', type: 'reference', documentation: 'the same as subject' },
            ],
          },
        ],
      },
    ],
  };
}

export function registerFhirRoutes(app: FastifyInstance, options: { ward: WardState; historyPoints: number }): void {
  app.get(
    '/fhir/metadata',
    { schema: { summary: 'The FHIR R4 CapabilityStatement: RiskAssessment search', tags: ['fhir'], response: { 200: fhirJson('a CapabilityStatement (FHIR 4.0.1)') } } },
    async (_request, reply) => sendFhir(reply, 200, capabilityStatement(options.historyPoints)),
  );

  app.get(
    '/fhir/RiskAssessment',
    {
      schema: {
        summary: "A patient's recent scores as FHIR R4 RiskAssessments (a searchset Bundle, newest first)",
        description:
          'subject=Patient/<id>, subject=<id> or patient=<id>. The recent history the dashboard keeps in memory (DASHBOARD_HISTORY_POINTS per patient, patients seen within DASHBOARD_PATIENT_TTL_MS); the warehouse keeps every score. Needs the read scope.',
        tags: ['fhir'],
        querystring: { type: 'object', properties: { subject: { type: 'string' }, patient: { type: 'string' } } },
        security: [{ bearer: [] }],
        response: { 200: fhirJson('a searchset Bundle of RiskAssessments (empty for a patient the ward does not know)'), ...operationOutcomeResponses({ 400: 'no subject, or not a Patient' }) },
      },
      // The answer is built and serialized here; no response schema may drop a FHIR element.
      serializerCompiler: () => (data: unknown) => JSON.stringify(data),
    },
    async (request: FastifyRequest, reply) => {
      const subject = subjectOf(request.query as Query);
      if ('problem' in subject) return sendFhir(reply, 400, required(subject.problem));
      const self = `${request.protocol}://${request.host}/fhir/RiskAssessment?subject=${encodeURIComponent(`Patient/${subject.id}`)}`;
      return sendFhir(reply, 200, riskAssessmentBundle(subject.id, options.ward.scores(subject.id), self));
    },
  );
}
