// The features column written from a frame's values is the very text JSON.stringify made of
// the features record before (warehouse users read it as it is).
import { FEATURE_COUNT, toFeatureValues } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { featuresJson } from '../src/warehouse/features-json.js';

const EDGES = [0, -0, 1, -1, 36.8, 0.1 + 0.2, 1e21, 1e-7, -1.5e-300, 5e-324, Number.MAX_VALUE, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 123456789.123, NaN, Infinity, -Infinity];

describe('featuresJson', () => {
  it('is JSON.stringify of the features record, for every kind of number and for missing values', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let round = 0; round < 50; round++) {
      const values = Float64Array.from({ length: FEATURE_COUNT }, (_, i) => (round === 0 ? EDGES[i % EDGES.length]! : [Math.round(random() * 200), Math.round(random() * 1e4) / 100, random() * 1e6, NaN][i % 4]!));
      expect(featuresJson(values)).toBe(JSON.stringify(toFeatureValues(values)));
    }
  });

  it('refuses values that are not the catalogue', () => {
    expect(() => featuresJson(new Float64Array(FEATURE_COUNT + 1))).toThrow(/values for a catalogue/);
  });
});
