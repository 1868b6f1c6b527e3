// The features column written from a frame's values is the very text JSON.stringify made of
// the features record before (warehouse users read it as it is).
import { FEATURE_COUNT, toFeatureValues } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { FEATURES_JSON_MAX_LENGTH, featuresJson } from '../src/warehouse/features-json.js';
import { SCORE_COLUMNS } from '../src/warehouse/schema.js';
import { outOfBounds } from '../src/warehouse/bounds.js';

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

  // A frame's text is built only when its row lands, so the bounds check takes its length on trust.
  it('never gives a text longer than FEATURES_JSON_MAX_LENGTH, which fits the column', () => {
    let longest = 0;
    for (const v of [-0.0000012345678901234567, -2.2250738585072014e-308, -1.7976931348623157e308, -123456789012345680000, -5e-324]) {
      longest = Math.max(longest, featuresJson(new Float64Array(FEATURE_COUNT).fill(v)).length);
    }
    expect(longest).toBe(FEATURES_JSON_MAX_LENGTH);
    const column = SCORE_COLUMNS.find((c) => c.name === 'features')!;
    expect(FEATURES_JSON_MAX_LENGTH).toBeLessThanOrEqual(column.maxLength!);
  });

  it('still checks the length of a features text that came as JSON', () => {
    const column = SCORE_COLUMNS.find((c) => c.name === 'features')!;
    const row = { features: `{"x":"${'a'.repeat(column.maxLength!)}"}` };
    expect(outOfBounds([column], row as never)).toMatch(/^column features is \d+ characters, over its/);
    expect(outOfBounds([column], { features: new Float64Array(FEATURE_COUNT) } as never)).toBeNull();
  });
});
