import { describe, expect, it } from 'vitest';
import { catalogueOf, decodeSeverityScore, encodeSeverityScore, FEATURE_NAMES } from '@ehr/features';
import { declaredFeatureNames, resolveVitalFeatures, VitalExtractor } from '../src/index.js';
import { makeScore } from './fixtures.js';

describe('key vitals from feature names', () => {
  it('prefers the exact signal or its latest value over derived features', () => {
    const names = ['heart_rate_delta_1h', 'heart_rate_last', 'heart_rate_mean_6h', 'respiratory_rate', 'spo2_min_24h', 'spo2_last', 'spo2_scale', 'systolic_bp_slope_6h', 'sbp', 'temperature_last'];
    expect(resolveVitalFeatures(names)).toEqual({ hr: 'heart_rate_last', rr: 'respiratory_rate', spo2: 'spo2_last', sbp: 'sbp', temp: 'temperature_last' });
  });

  it('leaves out a vital no feature carries, so the page shows it as not measured', () => {
    const extractor = new VitalExtractor(null);
    expect(extractor.extract({ heart_rate_last: 88, heart_rate_delta_1h: 4, lactate_last: 2 })).toEqual({ hr: 88, rr: null, spo2: null, sbp: null, temp: null });
  });

  it('uses the feature list @ehr/features publishes once it exists', () => {
    expect(declaredFeatureNames({})).toBeNull();
    expect(declaredFeatureNames({ FEATURE_NAMES: ['hr_now', 'rr_now'] })).toEqual(['hr_now', 'rr_now']);
    const extractor = new VitalExtractor(['hr', 'rr']);
    expect(extractor.extract({ hr: 70, rr: 20 })).toMatchObject({ hr: 70, rr: 20 });
  });

  it('reads the vitals of a score off the wire by catalogue index, as from the same score with names', () => {
    const features = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, i % 4 === 0 ? null : i + 0.5]));
    const score = makeScore({ patientId: 'p-1', t: Date.parse('2026-03-02T12:00:00Z'), band: 'medium' });
    score.payload.features = features;
    const decoded = decodeSeverityScore(encodeSeverityScore(score));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(catalogueOf(decoded.value.payload)).toBeDefined();
    for (const extractor of [new VitalExtractor(), new VitalExtractor(null), new VitalExtractor(['heart_rate_last', 'spo2_last'])]) {
      const vitals = extractor.extractFrom(decoded.value.payload);
      expect(vitals).toEqual(extractor.extract(features));
      expect(Object.values(vitals).filter((v) => v !== null).length).toBeGreaterThanOrEqual(3);
    }
  });
});
