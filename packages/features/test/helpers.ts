// Hand-built raw events for the feature tests.
import type { AdmissionPayload, LabKind, RawEvent, VitalKind } from '../src/index.js';
import { CANONICAL_UNITS } from '../src/index.js';

export const T0 = Date.parse('2024-03-01T12:00:00Z');
export const H = 3_600_000;
export const at = (hoursFromT0: number) => new Date(T0 + hoursFromT0 * H).toISOString();

let seq = 0;
const id = (prefix: string) => `${prefix}-${++seq}`;
const envelope = (patientId: string, hours: number, eventId?: string) => ({
  schemaVersion: 1 as const,
  eventId: eventId ?? id('e'),
  patientId,
  encounterId: `enc-${patientId}`,
  occurredAt: at(hours),
  producedAt: at(hours),
  source: 'synthetic' as const,
});

export function vital(patientId: string, kind: VitalKind, value: number, hours: number, opts: { unit?: string; id?: string } = {}): RawEvent {
  return { schema: 'vital_sign', ...envelope(patientId, hours, opts.id), payload: { kind, value, unit: opts.unit ?? CANONICAL_UNITS[kind] } };
}

export function lab(patientId: string, kind: LabKind, value: number, hours: number, opts: { unit?: string; id?: string } = {}): RawEvent {
  return { schema: 'lab_result', ...envelope(patientId, hours, opts.id), payload: { kind, value, unit: opts.unit ?? CANONICAL_UNITS[kind] } };
}

export function note(patientId: string, text: string, hours: number, opts: { id?: string } = {}): RawEvent {
  return { schema: 'clinical_note', ...envelope(patientId, hours, opts.id), payload: { category: 'nursing', text } };
}

export function admission(patientId: string, hours: number, payload: Partial<AdmissionPayload> = {}, opts: { id?: string } = {}): RawEvent {
  return { schema: 'admission', ...envelope(patientId, hours, opts.id), payload: { admissionType: 'EW EMER.', unit: 'Medicine Ward', ...payload } };
}

export function transfer(patientId: string, hours: number, toUnit: string, icu: boolean, spo2Scale?: 1 | 2): RawEvent {
  return { schema: 'transfer', ...envelope(patientId, hours), payload: { toUnit, icu, ...(spo2Scale ? { spo2Scale } : {}) } };
}

export function discharge(patientId: string, hours: number, opts: { id?: string } = {}): RawEvent {
  return { schema: 'discharge', ...envelope(patientId, hours, opts.id), payload: { outcome: 'home' } };
}
