import { describe, expect, it } from 'vitest';
import { news2OfFeatures } from '../src/index.js';

describe('news2OfFeatures (the NEWS2 a vector carries, for scores)', () => {
  it('reads the total and bands it with its parts: a single parameter at 3 is low-medium', () => {
    const features = { news2_total: 3, news2_respiratory_rate: 3, news2_spo2: 0, news2_heart_rate: 0 };
    expect(news2OfFeatures(features)).toEqual({ total: 3, band: 'low_medium' });
    expect(news2OfFeatures({ ...features, news2_total: 7 })).toEqual({ total: 7, band: 'high' });
  });

  it('is null when not one parameter was scored, or the total is missing', () => {
    expect(news2OfFeatures({ news2_total: 0 })).toEqual({ total: null, band: null });
    expect(news2OfFeatures({ news2_heart_rate: 1, news2_total: null })).toEqual({ total: null, band: null });
  });
});
