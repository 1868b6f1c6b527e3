import type { TSchema } from '@sinclair/typebox';
import { AlertEvent } from './schemas/alert-event.js';
import { DeadLetter } from './schemas/dead-letter.js';
import {
  AdmissionEvent,
  ClinicalNoteEvent,
  DischargeEvent,
  LabResultEvent,
  TransferEvent,
  VitalSignEvent,
} from './schemas/events.js';
import { FeatureVectorEvent } from './schemas/feature-vector.js';
import { SeverityScoreEvent } from './schemas/severity-score.js';

/** Every message schema, by file name, for the JSON Schema documents in `schemas/`. */
export const MESSAGE_SCHEMAS: Readonly<Record<string, TSchema>> = {
  'vital_sign.v1': VitalSignEvent,
  'lab_result.v1': LabResultEvent,
  'clinical_note.v1': ClinicalNoteEvent,
  'admission.v1': AdmissionEvent,
  'transfer.v1': TransferEvent,
  'discharge.v1': DischargeEvent,
  'feature_vector.v1': FeatureVectorEvent,
  'severity_score.v1': SeverityScoreEvent,
  'dead_letter.v1': DeadLetter,
  'alert_event.v1': AlertEvent,
};

/** A plain JSON Schema (draft 2020-12) document: TypeBox's symbols dropped by the JSON round trip. */
export function toJsonSchemaDocument(name: string, schema: TSchema): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...plain, $id: `https://ehr-severity.local/schemas/${name}.json` };
}
