// decodeSeverityScoreValues is decodeSeverityScore without the features record: the same
// score, the same values, the same verdict on every damaged frame.
import { describe, expect, it } from 'vitest';
import {
  decodeSeverityScore,
  decodeSeverityScoreValues,
  DEFAULT_ENGINE_OPTIONS,
  encodeSeverityScore,
  FEATURE_NAMES,
  processEvent,
  type SeverityScoreEvent,
  severityScoreOf,
  toFeatureValues,
  toFeatureVectorEvent,
} from '../src/index.js';
import { admission, lab, note, vital } from './helpers.js';

const when = new Date('2024-03-02T00:00:00Z');

function scores(): SeverityScoreEvent[] {
  const store = new Map();
  const events = [admission('w', 0, { gender: 'F', age: 71 }), vital('w', 'temperature', 38.3, 1), vital('w', 'heart_rate', 112, 1.2), lab('w', 'lactate', 2.37, 2), note('w', 'Denies chest pain.', 2.5)];
  return events.map((e, i) => {
    const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind !== 'featurized' || !o.vector) throw new Error('expected a vector');
    const v = toFeatureVectorEvent(o.vector, when);
    return severityScoreOf(v, `00000000-0000-4000-8000-00000000000${i}`, when, {
      mode: 'model',
      probability: 0.4172,
      band: 'medium',
      bandSource: 'model',
      bandReason: 'model probability 0.417 ≥ 0.3',
      news2: 5,
      news2Band: 'medium',
      model: { name: 'rf', version: '1' },
      features: v.payload.features,
      topFeatures: [{ feature: FEATURE_NAMES[0]!, value: v.payload.features[FEATURE_NAMES[0]!] ?? null, contribution: 0.12 }],
      latencyMs: 3,
      context: { unit: 'Medicine Ward', department: null, spo2Scale: 1 },
    });
  });
}

/** Both decoders' results in one shape: the whole score, or the failure. */
function viaValues(bytes: Uint8Array | string) {
  const r = decodeSeverityScoreValues(bytes);
  if (!r.ok) return r;
  const { event, values } = r.value;
  return { ok: true, value: values === null ? event : { ...event, payload: { ...event.payload, features: toFeatureValues(values) } } };
}
const viaRecord = (bytes: Uint8Array | string) => {
  const r = decodeSeverityScore(bytes);
  return r.ok ? { ok: true, value: { ...r.value, payload: { ...r.value.payload, features: { ...r.value.payload.features } } } } : r;
};

describe('a score decoded with its values unbuilt', () => {
  it('is the score decodeSeverityScore gives, features in catalogue order', () => {
    for (const score of scores()) {
      const bytes = encodeSeverityScore(score);
      expect(viaValues(bytes)).toEqual(viaRecord(bytes));
      const r = decodeSeverityScoreValues(bytes);
      if (!r.ok || r.value.values === null) throw new Error('expected a frame with values');
      expect(JSON.stringify(toFeatureValues(r.value.values))).toBe(JSON.stringify(score.payload.features));
    }
  });

  it('reads the JSON of before as it was (its features record, no values)', () => {
    const score = scores()[1]!;
    const r = decodeSeverityScoreValues(Buffer.from(JSON.stringify(score)));
    expect(r.ok && r.value.values).toBeNull();
    expect(viaValues(JSON.stringify(score))).toEqual(viaRecord(JSON.stringify(score)));
  });

  it('fails every damaged frame as decodeSeverityScore does', () => {
    const bytes = encodeSeverityScore(scores()[2]!);
    const damaged: Buffer[] = [];
    for (let n = 0; n < bytes.length; n += 7) damaged.push(bytes.subarray(0, n));
    for (let at = 3; at < bytes.length; at += 5) {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at]! + 0x41) & 0xff;
      damaged.push(copy);
    }
    damaged.push(Buffer.concat([bytes, Buffer.from([0])]));
    const bad = Buffer.from(bytes.toString('latin1').replace('"source":"scoring-service"', '"source":"scoring-servicX"'), 'latin1');
    expect(bad.equals(bytes)).toBe(false);
    damaged.push(bad);
    let failures = 0;
    for (const d of damaged) {
      const expected = viaRecord(d);
      expect(viaValues(d)).toEqual(expected);
      if (!expected.ok) failures++;
    }
    expect(failures).toBeGreaterThan(damaged.length / 2);
  });
});
