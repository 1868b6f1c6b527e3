// Real encoded score frames for the sink's benches: a seeded ward of patients (hourly vitals,
// labs twice a day, a note now and then) through the feature engine, scored as scoring
// writes a score (five contributions, a band reason), encoded by the contract's encoder.
// Same idea as packages/features/bench/vectors.ts, which the sink cannot import.
import {
  CANONICAL_UNITS,
  createRandom,
  decodeSeverityScore,
  DEFAULT_ENGINE_OPTIONS,
  encodeSeverityScore,
  FEATURE_NAMES,
  processEvent,
  severityScoreOf,
  toFeatureVectorEvent,
  type LabKind,
  type PatientState,
  type RawEvent,
  type SeverityScoreEvent,
  type Validation,
  type VitalKind,
} from '@ehr/features';

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

/** Scores of a seeded ward: `patients` × `hours` of charting, one score per feature vector. */
export function wardScores(patients: number, hours: number, seed = 7): SeverityScoreEvent[] {
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
  const scores: SeverityScoreEvent[] = [];
  const when = new Date(T0 + 86_400_000);
  for (const e of events) {
    const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind !== 'featurized' || !o.vector) continue;
    const v = toFeatureVectorEvent(o.vector, when);
    const i = scores.length;
    const probability = ((i * 7919) % 1000) / 1000;
    scores.push(
      severityScoreOf(v, scoreIdOf(i), when, {
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
      }),
    );
  }
  return scores;
}

/** Fixed-length score ids, so that a frame's id can be rewritten in place. */
const scoreIdOf = (n: number) => `bench-score-${n.toString(36).padStart(10, '0')}`;

/**
 * Frames for any number of rows from a few templates: each copy gets a fresh score id
 * written over the template's (same length), as cheaply as a consumer gets a message.
 */
export function frameSource(templates: readonly SeverityScoreEvent[]): { key: (n: number) => string; frame: (n: number) => Buffer } {
  const encoded = templates.map((t) => {
    const bytes = encodeSeverityScore(t);
    const id = Buffer.from(t.payload.scoreId);
    // The id appears twice (envelope eventId and payload.scoreId): every place is rewritten.
    const at: number[] = [];
    for (let i = bytes.indexOf(id); i >= 0; i = bytes.indexOf(id, i + 1)) at.push(i);
    return { bytes, at, key: t.patientId };
  });
  return {
    key: (n) => encoded[n % encoded.length]!.key,
    frame: (n) => {
      const t = encoded[n % encoded.length]!;
      const copy = Buffer.allocUnsafe(t.bytes.length);
      t.bytes.copy(copy);
      const id = scoreIdOf(n);
      for (const i of t.at) copy.write(id, i, 'latin1');
      return copy;
    },
  };
}

/**
 * Decodes a score the way the sink did before issue 18 (for A/B runs): its 211-key features
 * record built and kept as a plain property, so that its row's text comes from
 * JSON.stringify of the record instead of from the frame's values.
 */
export const decodeScoreAsBefore = (bytes: Uint8Array | string): Validation<SeverityScoreEvent> => {
  const decoded = decodeSeverityScore(bytes);
  if (decoded.ok) decoded.value.payload.features = { ...decoded.value.payload.features };
  return decoded;
};
