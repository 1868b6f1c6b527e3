import { describe, expect, it } from 'vitest';
import {
  decodeFeatureVector,
  decodeSeverityScore,
  DEFAULT_ENGINE_OPTIONS,
  encodeFeatureVector,
  encodeFeatureVectorDraft,
  encodeSeverityScore,
  isDecodedCatalogue,
  catalogueOf,
  pickFeatures,
  withCatalogueFeatures,
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_SET_VERSION,
  MODEL_NAME_MAX,
  MODEL_VERSION_MAX,
  type FeatureDraft,
  type FeatureVectorEvent,
  isFrame,
  processEvent,
  serializeFeatureVector,
  type SeverityScoreEvent,
  severityScoreOf,
  toFeatureVectorEvent,
  triage,
} from '../src/index.js';
import { admission, lab, note, vital } from './helpers.js';

const when = new Date('2024-03-02T00:00:00Z');

function drafts(): FeatureDraft[] {
  const store = new Map();
  const events = [admission('w', 0, { gender: 'F', age: 71 }), vital('w', 'temperature', 38.3, 1), vital('w', 'heart_rate', 112, 1.2), lab('w', 'lactate', 2.37, 2), note('w', 'Denies chest pain.', 2.5)];
  return events.map((e) => {
    const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind !== 'featurized' || !o.vector) throw new Error('expected a vector');
    return o.vector;
  });
}

function scoreOf(v: FeatureVectorEvent, mode: 'model' | 'news2_only'): SeverityScoreEvent {
  const model = mode === 'model';
  return severityScoreOf(v, '00000000-0000-4000-8000-000000000001', when, {
    mode,
    probability: model ? 0.4172 : null,
    band: 'medium',
    bandSource: model ? 'model' : 'news2',
    bandReason: model ? 'model probability 0.417 ≥ 0.3' : 'NEWS2 5: medium (no model)',
    news2: 5,
    news2Band: 'medium',
    model: model ? { name: 'rf', version: '1' } : null,
    features: v.payload.features,
    topFeatures: model ? [{ feature: FEATURE_NAMES[0]!, value: v.payload.features[FEATURE_NAMES[0]!] ?? null, contribution: 0.12 }] : [],
    latencyMs: 3,
    context: { unit: 'Medicine Ward', department: null, spo2Scale: 1 },
  });
}

const ok = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('feature vector on the wire', () => {
  it('round-trips to exactly what the JSON with names carried, missing values included', () => {
    for (const d of drafts()) {
      const bytes = encodeFeatureVectorDraft(d, when);
      expect(isFrame(bytes)).toBe(true);
      const fromFrame = ok(decodeFeatureVector(bytes));
      const fromJson = ok(decodeFeatureVector(serializeFeatureVector(d, when)));
      expect(fromFrame).toEqual(fromJson);
      // The warehouse's features JSON: same names, same order, same numbers.
      expect(JSON.stringify(fromFrame.payload.features)).toBe(JSON.stringify(fromJson.payload.features));
      expect(Object.values(fromFrame.payload.features)).toContain(null);
      // From the message object, the same bytes as from the draft.
      expect(encodeFeatureVector(toFeatureVectorEvent(d, when))).toEqual(bytes);
    }
  });

  it('keeps every number exact and carries NaN and ±Infinity as missing, as JSON did', () => {
    const [d] = drafts();
    const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 36.8, -2.37, 0.1 + 0.2, 1e-300, 1.7976931348623157e308, 2 ** 48, 2 ** 53 - 1, -(2 ** 60), 123456.7891, 0.00005, Math.PI];
    const values = new Float64Array(FEATURE_COUNT).fill(NaN);
    special.forEach((v, i) => (values[i] = v));
    const got = ok(decodeFeatureVector(encodeFeatureVectorDraft({ ...d!, values }, when))).payload.features;
    special.forEach((v, i) => {
      const name = FEATURE_NAMES[i]!;
      if (Number.isFinite(v)) expect(Object.is(got[name], v), `${name} = ${v}`).toBe(true);
      else expect(got[name]).toBeNull();
    });
    expect(JSON.stringify(got)).toBe(JSON.stringify(JSON.parse(serializeFeatureVector({ ...d!, values }, when)).payload.features));
  });

  it('refuses to encode a vector that is not this catalogue', () => {
    const v = toFeatureVectorEvent(drafts()[0]!, when);
    expect(() => encodeFeatureVector({ ...v, payload: { ...v.payload, featureSetVersion: '0.9' } })).toThrow(/feature set 0.9/);
    const { [FEATURE_NAMES[3]!]: _dropped, ...short } = v.payload.features;
    expect(() => encodeFeatureVector({ ...v, payload: { ...v.payload, features: short } })).toThrow(/absent/);
    expect(() => encodeFeatureVector({ ...v, payload: { ...v.payload, features: { ...v.payload.features, extra: 1 } } })).toThrow(/outside/);
  });
});

describe('severity score on the wire', () => {
  it.each(['model', 'news2_only'] as const)('round-trips a %s score with its features', (mode) => {
    for (const d of drafts()) {
      const score = scoreOf(toFeatureVectorEvent(d, when), mode);
      const bytes = encodeSeverityScore(score);
      const decoded = ok(decodeSeverityScore(bytes));
      expect(decoded).toEqual(JSON.parse(JSON.stringify(score)));
      expect(JSON.stringify(decoded.payload.features)).toBe(JSON.stringify(score.payload.features));
      expect(bytes.length).toBeLessThan(JSON.stringify(score).length / 2);
    }
  });

  it('a score of a decoded vector (scoring\'s path) reuses its values: the same bytes as from a plain copy', () => {
    for (const d of drafts()) {
      const decoded = ok(decodeFeatureVector(encodeFeatureVectorDraft(d, when)));
      const { features } = decoded.payload;
      // Frozen, so that the values it was built from stay its values.
      expect(Object.isFrozen(features)).toBe(true);
      expect(() => ((features as Record<string, number | null>)[FEATURE_NAMES[0]!] = 1)).toThrow(TypeError);
      expect(isDecodedCatalogue(features)).toBe(true);
      const plain = { ...features };
      expect(isDecodedCatalogue(plain)).toBe(false);
      const score = scoreOf(decoded, 'model');
      expect(encodeSeverityScore(score)).toEqual(encodeSeverityScore({ ...score, payload: { ...score.payload, features: plain } }));
      expect(isDecodedCatalogue(ok(decodeSeverityScore(encodeSeverityScore(score))).payload.features)).toBe(true);
    }
    expect(isDecodedCatalogue(toFeatureVectorEvent(drafts()[0]!, when).payload.features)).toBe(false);
  });

  it('a decoded payload builds its features record only when read, and reads like a plain one', () => {
    for (const d of drafts()) {
      const bytes = encodeFeatureVectorDraft(d, when);
      const decoded = ok(decodeFeatureVector(bytes));
      const catalogue = catalogueOf(decoded.payload);
      expect(catalogue?.values).toHaveLength(FEATURE_COUNT);
      // The values as the frame packed them, copied out of the record's buffer.
      expect(Buffer.from(bytes).indexOf(Buffer.from(catalogue!.packed))).toBe(bytes.length - catalogue!.packed.length);
      expect(catalogue!.packed.buffer).not.toBe(bytes.buffer);
      expect('get' in Object.getOwnPropertyDescriptor(decoded.payload, 'features')!).toBe(true);
      const plain = JSON.parse(JSON.stringify(decoded)) as FeatureVectorEvent;
      expect(Object.keys(decoded.payload)).toEqual(Object.keys(plain.payload));
      expect(decoded).toEqual(plain);
      expect({ ...decoded.payload.features }).toEqual(plain.payload.features);
      expect(encodeFeatureVector(decoded)).toEqual(encodeFeatureVector(plain));
      // Assigning replaces the record, and the frame's values with it.
      decoded.payload.features = { ...plain.payload.features, [FEATURE_NAMES[0]!]: 12345 };
      expect(catalogueOf(decoded.payload)).toBeUndefined();
      expect(ok(decodeFeatureVector(encodeFeatureVector(decoded))).payload.features[FEATURE_NAMES[0]!]).toBe(12345);
    }
  });

  it('a score given its vector\'s catalogue (scoring\'s path) encodes the vector\'s packed values, as a plain copy would', () => {
    for (const d of drafts()) {
      const vector = ok(decodeFeatureVector(encodeFeatureVectorDraft(d, when)));
      const plain = scoreOf(JSON.parse(JSON.stringify(vector)) as FeatureVectorEvent, 'model');
      const score = scoreOf(vector, 'model');
      score.payload = withCatalogueFeatures({ ...score.payload, features: {} }, catalogueOf(vector.payload)!);
      expect(encodeSeverityScore(score)).toEqual(encodeSeverityScore(plain));
      expect(score).toEqual(plain);
      expect(pickFeatures(catalogueOf(vector.payload)!.values, ['news2_total', 'no_such_feature', FEATURE_NAMES[1]!])).toEqual({
        news2_total: plain.payload.features.news2_total,
        [FEATURE_NAMES[1]!]: plain.payload.features[FEATURE_NAMES[1]!],
      });
    }
  });

  it('refuses a model name, version or top feature longer than the contract bounds (every reader keeps them per score)', () => {
    const score = scoreOf(toFeatureVectorEvent(drafts()[0]!, when), 'model');
    const at = (payload: Partial<SeverityScoreEvent['payload']>) => reasonOf(decodeSeverityScore(encodeSeverityScore({ ...score, payload: { ...score.payload, ...payload } })));
    expect(at({ model: { name: 'm'.repeat(MODEL_NAME_MAX), version: 'v'.repeat(MODEL_VERSION_MAX) } })).toBe('ok');
    expect(at({ model: { name: 'm'.repeat(MODEL_NAME_MAX + 1), version: '1' } })).toBe('schema_invalid');
    expect(at({ model: { name: 'rf', version: 'v'.repeat(MODEL_VERSION_MAX + 1) } })).toBe('schema_invalid');
    expect(at({ topFeatures: [{ feature: 'f'.repeat(97), value: 1, contribution: 0.1 }] })).toBe('schema_invalid');
  });

  it('decodes a message once: every reader of the same bytes shares one score, frozen deep so that none can change it for the next', () => {
    const score = scoreOf(toFeatureVectorEvent(drafts()[0]!, when), 'model');
    const bytes = encodeSeverityScore(score);
    const first = ok(decodeSeverityScore(bytes));
    expect(ok(decodeSeverityScore(bytes))).toBe(first);
    expect(first).toEqual(JSON.parse(JSON.stringify(score)));
    expect(Object.isFrozen(first) && Object.isFrozen(first.payload) && Object.isFrozen(first.payload.topFeatures)).toBe(true);
    expect(() => ((first.payload as { band: string }).band = 'low')).toThrow(TypeError);
    expect(() => (first.payload.topFeatures as unknown[]).push({ feature: 'x', value: 1, contribution: 1 })).toThrow(TypeError);
    expect(() => ((first.payload.topFeatures[0] as { contribution: number }).contribution = 0)).toThrow(TypeError);
    expect(() => ((first.payload.features as Record<string, number | null>)[FEATURE_NAMES[0]!] = 1)).toThrow(TypeError);
    // Replacing the features fails, and leaves them the frame's values for every reader.
    expect(() => ((first.payload as { features: unknown }).features = {})).toThrow(TypeError);
    expect(catalogueOf(first.payload)?.values).toHaveLength(FEATURE_COUNT);
    // Other bytes of the same message are decoded on their own; a refusal is remembered as it was.
    expect(ok(decodeSeverityScore(Buffer.from(bytes)))).not.toBe(first);
    const damaged = bytes.subarray(0, bytes.length - 1);
    expect(decodeSeverityScore(damaged)).toBe(decodeSeverityScore(damaged));
    expect(reasonOf(decodeSeverityScore(damaged))).toBe('unparseable');
    // The JSON of before is frozen too.
    expect(Object.isFrozen(ok(decodeSeverityScore(JSON.stringify(score))).payload)).toBe(true);
  });

  it('still reads the JSON with names already on a topic (upgrade)', () => {
    const score = scoreOf(toFeatureVectorEvent(drafts()[1]!, when), 'model');
    expect(ok(decodeSeverityScore(Buffer.from(JSON.stringify(score))))).toEqual(ok(decodeSeverityScore(encodeSeverityScore(score))));
  });
});

describe('hostile frames are named, never thrown', () => {
  const vector = encodeFeatureVectorDraft(drafts()[2]!, when);
  const score = encodeSeverityScore(scoreOf(toFeatureVectorEvent(drafts()[2]!, when), 'model'));
  const patched = (bytes: Buffer, at: number, value: number) => {
    const copy = Buffer.from(bytes);
    copy[at] = value;
    return copy;
  };
  const headerLength = vector.readUInt32LE(5);

  it('every truncation is unparseable', () => {
    for (let n = 0; n < vector.length; n++) expect(reasonOf(decodeFeatureVector(vector.subarray(0, n))), `length ${n}`).toBe('unparseable');
    for (let n = 3; n < score.length; n++) expect(reasonOf(decodeSeverityScore(score.subarray(0, n))), `length ${n}`).toBe('unparseable');
  });

  it('bytes after the frame are unparseable', () => {
    const r = decodeFeatureVector(Buffer.concat([vector, Buffer.from([0])]));
    expect(r.ok ? '' : r.error).toMatch(/1 byte\(s\) after the end of the frame/);
  });

  it('another wire version is unsupported_schema_version, another catalogue feature_set_mismatch', () => {
    expect(reasonOf(decodeFeatureVector(patched(vector, 4, 2)))).toBe('unsupported_schema_version');
    // The catalogue version's first character, just after the header.
    const r = decodeFeatureVector(patched(vector, 9 + headerLength + 1, '9'.charCodeAt(0)));
    expect(reasonOf(r)).toBe('feature_set_mismatch');
    expect(r.ok ? '' : r.error).toContain(FEATURE_SET_VERSION);
  });

  it('a score frame is not a vector, a header too long is too_large, a bad header schema_invalid', () => {
    expect(reasonOf(decodeFeatureVector(score))).toBe('schema_invalid');
    const huge = Buffer.from(vector);
    huge.writeUInt32LE(0xffffffff, 5);
    expect(reasonOf(decodeFeatureVector(huge))).toBe('too_large');
    expect(reasonOf(decodeFeatureVector(patched(vector, 9, 0x5b)))).toBe('unparseable'); // '[' breaks the JSON
    const text = vector.toString('latin1').replace('"source":"feature-service"', '"source":"feature-servicX"');
    expect(reasonOf(decodeFeatureVector(Buffer.from(text, 'latin1')))).toBe('schema_invalid');
  });

  it('a forged non-finite float64 is schema_invalid', () => {
    const values = new Float64Array(FEATURE_COUNT).fill(NaN);
    values[0] = Math.PI; // stored as float64: the last 8 bytes of the frame
    const bytes = Buffer.from(encodeFeatureVectorDraft({ ...drafts()[0]!, values }, when));
    bytes.writeDoubleLE(NaN, bytes.length - 8);
    expect(reasonOf(decodeFeatureVector(bytes))).toBe('schema_invalid');
  });

  it('a rejected frame is dead-lettered with the ids from its header', () => {
    const record = { topic: 'ehr.features.v1', partition: 0, offset: '7', key: 'w', value: patched(vector, 4, 9) };
    const { rejected } = triage([record], decodeFeatureVector, 'scoring');
    expect(rejected[0]).toMatchObject({ reason: 'unsupported_schema_version', patientId: 'w', originalBytes: record.value.toString('base64') });
  });
});
