// Realistic vectors for the wire bench without @ehr/cohort (which depends on this package):
// a seeded ward of patients with hourly vitals, labs twice a day and a note now and then,
// run through the engine the feature service uses.
import { CANONICAL_UNITS, createRandom, DEFAULT_ENGINE_OPTIONS, processEvent, type FeatureDraft, type PatientState, type RawEvent, type VitalKind, type LabKind } from '../src/index.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const VITALS: [VitalKind, number, number, number][] = [
  ['heart_rate', 85, 15, 0],
  ['respiratory_rate', 18, 4, 0],
  ['spo2', 96, 2, 0],
  ['systolic_bp', 125, 18, 0],
  ['diastolic_bp', 72, 10, 0],
  ['temperature', 37, 0.6, 1],
];
const LABS: [LabKind, number, number, number][] = [
  ['wbc', 9, 3, 1],
  ['lactate', 1.6, 0.8, 1],
  ['creatinine', 1.1, 0.4, 2],
  ['hemoglobin', 12, 1.5, 1],
  ['platelets', 220, 60, 0],
  ['sodium', 139, 3, 0],
  ['potassium', 4.1, 0.4, 1],
];

export function wardDrafts(patients: number, hours: number, seed = 7): FeatureDraft[] {
  const random = createRandom(seed);
  const events: RawEvent[] = [];
  let seq = 0;
  const envelope = (patientId: string, at: number) => {
    const time = new Date(at).toISOString();
    return { schemaVersion: 1 as const, eventId: `bench-${++seq}`, patientId, encounterId: `enc-${patientId}`, occurredAt: time, producedAt: time, source: 'synthetic' as const };
  };
  const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
  for (let p = 0; p < patients; p++) {
    const id = `p${p}`;
    events.push({ schema: 'admission', ...envelope(id, T0), payload: { admissionType: 'EW EMER.', unit: 'Medicine Ward', gender: p % 2 ? 'F' : 'M', age: 40 + (p % 50) } });
    for (let h = 0; h < hours; h++) {
      const at = T0 + h * 3_600_000 + p * 1000;
      for (const [kind, mean, sd, digits] of VITALS) events.push({ schema: 'vital_sign', ...envelope(id, at), payload: { kind, value: round(mean + sd * (random.next() * 2 - 1), digits), unit: CANONICAL_UNITS[kind] } });
      if (h % 12 === 0) for (const [kind, mean, sd, digits] of LABS) events.push({ schema: 'lab_result', ...envelope(id, at + 60_000), payload: { kind, value: round(mean + sd * (random.next() * 2 - 1), digits), unit: CANONICAL_UNITS[kind] } });
      if (h % 8 === 0) events.push({ schema: 'clinical_note', ...envelope(id, at + 120_000), payload: { category: 'nursing', text: 'Patient comfortable, denies chest pain. Mild tachypnoea on exertion.' } });
    }
  }
  events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const store = new Map<string, PatientState>();
  const drafts: FeatureDraft[] = [];
  for (const e of events) {
    const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind === 'featurized' && o.vector) drafts.push(o.vector);
  }
  return drafts;
}
