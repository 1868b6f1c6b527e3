// Real encoded score frames for the sink's benches: a seeded ward of patients (hourly vitals,
// labs twice a day, a note now and then) through the feature engine, scored as scoring
// writes a score (five contributions, a band reason), encoded by the contract's encoder.
// The ward and the score are @ehr/features/testing's, as in the features package's wire bench.
import {
  decodeSeverityScore,
  DEFAULT_ENGINE_OPTIONS,
  encodeSeverityScore,
  processEvent,
  toFeatureVectorEvent,
  type PatientState,
  type SeverityScoreEvent,
  type Validation,
} from '@ehr/features';
import { benchScore, benchWardEvents } from '@ehr/features/testing';

/** Scores of a seeded ward: `patients` × `hours` of charting, one score per feature vector. */
export function wardScores(patients: number, hours: number, seed = 7): SeverityScoreEvent[] {
  const store = new Map<string, PatientState>();
  const scores: SeverityScoreEvent[] = [];
  const when = new Date(Date.parse('2025-01-02T00:00:00Z'));
  for (const e of benchWardEvents(patients, hours, seed)) {
    const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind !== 'featurized' || !o.vector) continue;
    scores.push(benchScore(toFeatureVectorEvent(o.vector, when), scores.length, scoreIdOf(scores.length), when));
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
  if (!decoded.ok) return decoded;
  // A copy: the decoded score is shared by every reader of the message, and frozen.
  const { value } = decoded;
  return { ok: true, value: { ...value, payload: { ...value.payload, features: { ...value.payload.features } } } };
};
