// Seeded, realistic inputs for the benches of this package and of the services that use it
// (`@ehr/features/testing`): a ward's raw charting and a score as scoring writes it. Not on
// the pipeline's path; one place, so that every bench measures the same kind of message.
import { CANONICAL_UNITS } from './cleaning/units.js';
import type { LabKind, VitalKind } from './clinical/signals.js';
import { FEATURE_NAMES } from './featurize/catalog.js';
import { createRandom } from './random.js';
import type { RawEvent } from './schemas/events.js';
import type { FeatureVectorEvent } from './schemas/feature-vector.js';
import { severityScoreOf, type SeverityScoreEvent } from './schemas/severity-score.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
/** kind, mean, spread, decimals charted */
type Charted<K> = [K, number, number, number];
const VITALS: Charted<VitalKind>[] = [
  ['heart_rate', 85, 15, 0],
  ['respiratory_rate', 18, 4, 0],
  ['spo2', 96, 2, 0],
  ['systolic_bp', 125, 18, 0],
  ['diastolic_bp', 72, 10, 0],
  ['temperature', 37, 0.6, 1],
];
const LABS: Charted<LabKind>[] = [
  ['wbc', 9, 3, 1],
  ['lactate', 1.6, 0.8, 1],
  ['creatinine', 1.1, 0.4, 2],
  ['hemoglobin', 12, 1.5, 1],
  ['platelets', 220, 60, 0],
  ['sodium', 139, 3, 0],
  ['potassium', 4.1, 0.4, 1],
];

/** A seeded ward: `patients` × `hours` of hourly vitals, labs twice a day and a note now and then, in time order. */
export function benchWardEvents(patients: number, hours: number, seed = 7): RawEvent[] {
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
  return events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
}

/** The `i`-th score of a bench, as scoring writes one: five contributions, a band reason, a model. */
export function benchScore(v: FeatureVectorEvent, i: number, scoreId: string, when: Date): SeverityScoreEvent {
  const probability = ((i * 7919) % 1000) / 1000;
  return severityScoreOf(v, scoreId, when, {
    mode: 'model',
    probability,
    band: probability > 0.5 ? 'high' : 'low',
    bandSource: 'model',
    bandReason: `model probability ${probability.toFixed(3)} at or above the high threshold 0.500`,
    news2: i % 9,
    news2Band: 'low',
    model: { name: 'severity-rf', version: '2025-01-01T00:00:00Z-abc123' },
    features: v.payload.features,
    topFeatures: [3, 17, 40, 41, 90].map((f, k) => ({ feature: FEATURE_NAMES[f]!, value: v.payload.features[FEATURE_NAMES[f]!] ?? null, contribution: 0.01 * (5 - k) + probability / 97 })),
    latencyMs: 12 + (i % 40),
    context: v.payload.context,
  });
}
