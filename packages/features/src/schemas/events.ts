import { Type, type Static } from '@sinclair/typebox';
import { envelope } from './envelope.js';
import {
  AdmissionPayload,
  ClinicalNotePayload,
  DischargePayload,
  LabResultPayload,
  TransferPayload,
  VitalSignPayload,
} from './payloads.js';

/** Raw events on `ehr.events.v1`: one envelope per clinical fact. */
export const VitalSignEvent = envelope('vital_sign', 1, VitalSignPayload);
export const LabResultEvent = envelope('lab_result', 1, LabResultPayload);
export const ClinicalNoteEvent = envelope('clinical_note', 1, ClinicalNotePayload);
export const AdmissionEvent = envelope('admission', 1, AdmissionPayload);
export const TransferEvent = envelope('transfer', 1, TransferPayload);
export const DischargeEvent = envelope('discharge', 1, DischargePayload);

export type VitalSignEvent = Static<typeof VitalSignEvent>;
export type LabResultEvent = Static<typeof LabResultEvent>;
export type ClinicalNoteEvent = Static<typeof ClinicalNoteEvent>;
export type AdmissionEvent = Static<typeof AdmissionEvent>;
export type TransferEvent = Static<typeof TransferEvent>;
export type DischargeEvent = Static<typeof DischargeEvent>;

export const RawEvent = Type.Union([VitalSignEvent, LabResultEvent, ClinicalNoteEvent, AdmissionEvent, TransferEvent, DischargeEvent], {
  $id: 'raw_event',
});
export type RawEvent = Static<typeof RawEvent>;
export type RawEventSchemaName = RawEvent['schema'];

export const RAW_EVENT_SCHEMAS = {
  vital_sign: VitalSignEvent,
  lab_result: LabResultEvent,
  clinical_note: ClinicalNoteEvent,
  admission: AdmissionEvent,
  transfer: TransferEvent,
  discharge: DischargeEvent,
} as const;
