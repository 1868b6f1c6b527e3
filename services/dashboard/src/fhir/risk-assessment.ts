// A score as a FHIR R4 RiskAssessment (http://hl7.org/fhir/R4/riskassessment.html), so that
// an EHR can pull scores in its own format. Pure mapping from what the ward keeps per score.
import type { Bundle, CodeableConcept, Reference, RiskAssessment, RiskAssessmentPrediction } from 'fhir/r4.js';
import type { ScoreRecord } from '../ward.js';

/** Identifier systems of our own ids (non-dereferenceable tag: URIs). */
export const SCORE_ID_SYSTEM = 'tag:ehr-pipeline,2026:score-id';
export const EVENT_ID_SYSTEM = 'tag:ehr-pipeline,2026:event-id';
export const MODEL_SYSTEM = 'tag:ehr-pipeline,2026:model';
export const OUTCOME_SYSTEM = 'tag:ehr-pipeline,2026:outcome';
export const PATIENT_ID_SYSTEM = 'tag:ehr-pipeline,2026:patient-id';
export const ENCOUNTER_ID_SYSTEM = 'tag:ehr-pipeline,2026:encounter-id';

/** FHIR R4's id type (http://hl7.org/fhir/R4/datatypes.html#id): what may follow `Patient/` in a literal reference. */
const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;

/**
 * A reference to the pipeline's patient or encounter: literal (`Patient/<id>`) when the id is
 * a FHIR id, else logical, by identifier. The pipeline's ids may hold ':' and '_' (a FHIR
 * subject named by identifier becomes `<tag of its system>:<value>`), which no FHIR id can.
 */
function referenceTo(type: 'Patient' | 'Encounter', id: string, system: string): Reference {
  return FHIR_ID.test(id) ? { reference: `${type}/${id}` } : { type, identifier: { system, value: id } };
}

/** HL7's qualitative risk codes: the band (and NEWS2's band) in words an EHR knows. */
const RISK_PROBABILITY = 'http://terminology.hl7.org/CodeSystem/risk-probability';
const risk = (code: 'low' | 'moderate' | 'high', display: string): CodeableConcept => ({ coding: [{ system: RISK_PROBABILITY, code }], text: display });

const BAND_RISK = { low: 'low', medium: 'moderate', high: 'high' } as const;
const NEWS2_RISK = { low: 'low', low_medium: 'moderate', medium: 'moderate', high: 'high' } as const;

// What the model predicts: the scores carry no label name, so the outcome says what every
// model of this pipeline is trained for; GET /model on the scoring service names the label.
const SEVERE_OUTCOME: CodeableConcept = {
  coding: [{ system: OUTCOME_SYSTEM, code: 'severe-deterioration', display: 'Severe outcome (the label of the model: see the scoring service, GET /model)' }],
  text: 'Severe outcome within the model horizon',
};
const NEWS2_OUTCOME: CodeableConcept = {
  coding: [{ system: OUTCOME_SYSTEM, code: 'news2-clinical-risk', display: 'NEWS2 clinical risk (Royal College of Physicians, 2017)' }],
  text: 'NEWS2 clinical risk',
};

function method(record: ScoreRecord): CodeableConcept {
  if (record.mode === 'news2_only' || !record.model) {
    return { coding: [{ system: MODEL_SYSTEM, code: 'news2', display: 'NEWS2 only (no model loaded)' }], text: 'NEWS2 only (no model loaded)' };
  }
  const { name, version } = record.model;
  return { coding: [{ system: MODEL_SYSTEM, code: name, version, display: `${name} ${version}` }], text: `${name} ${version}` };
}

function predictions(record: ScoreRecord): RiskAssessmentPrediction[] {
  const list: RiskAssessmentPrediction[] = [];
  const band: RiskAssessmentPrediction = {
    outcome: SEVERE_OUTCOME,
    qualitativeRisk: risk(BAND_RISK[record.band], `${record.band} (severity band)`),
  };
  if (record.probability !== null) band.probabilityDecimal = record.probability;
  list.push(band);
  if (record.news2Band !== null) {
    list.push({
      outcome: NEWS2_OUTCOME,
      qualitativeRisk: risk(NEWS2_RISK[record.news2Band], `${record.news2Band.replace('_', '-')} (NEWS2)`),
      ...(record.news2 !== null ? { rationale: `NEWS2 total ${record.news2}` } : {}),
    });
  }
  return list;
}

/** One score of one patient as a RiskAssessment; its id is the score id (UUID-shaped, a valid FHIR id). */
export function toRiskAssessment(patientId: string, record: ScoreRecord): RiskAssessment {
  return {
    resourceType: 'RiskAssessment',
    id: record.scoreId,
    identifier: [{ system: SCORE_ID_SYSTEM, value: record.scoreId }],
    status: 'final',
    subject: referenceTo('Patient', patientId, PATIENT_ID_SYSTEM),
    ...(record.encounterId ? { encounter: referenceTo('Encounter', record.encounterId, ENCOUNTER_ID_SYSTEM) } : {}),
    occurrenceDateTime: new Date(record.t).toISOString(),
    method: method(record),
    // A logical reference: the event id of the Observation (or other event) whose arrival made this score.
    ...(record.triggerEventId
      ? { basis: [{ identifier: { system: EVENT_ID_SYSTEM, value: record.triggerEventId }, display: 'the observation (event) that triggered this score' }] }
      : {}),
    prediction: predictions(record),
  };
}

/** A searchset Bundle of a patient's scores, newest first. */
export function riskAssessmentBundle(patientId: string, records: readonly ScoreRecord[], selfUrl: string): Bundle {
  const newestFirst = [...records].reverse();
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: newestFirst.length,
    link: [{ relation: 'self', url: selfUrl }],
    entry: newestFirst.map((r) => ({ fullUrl: `urn:uuid:${r.scoreId}`, resource: toRiskAssessment(patientId, r), search: { mode: 'match' as const } })),
  };
}
