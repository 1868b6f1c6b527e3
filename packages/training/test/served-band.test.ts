// The clinical evaluation of the band the ward is served (the model's band, never calmer than
// NEWS2's response tier: servedBand of @ehr/features, as the scoring service computes it),
// beside the model's own band before that floor.
import { FEATURE_COUNT, featureIndex, NEWS2_PART_FEATURES, type FeatureValues } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { evaluateClinically, formatClinicalSummary, news2FeaturesOf, servedBandsOf } from '../src/index.js';

// Two stays of 10 h. Patient 0 is septic (labels from hour 4: six positive hours), patient 1 not.
const y = [...Array.from({ length: 10 }, (_, h) => (h >= 4 ? 1 : 0)), ...new Array<number>(10).fill(0)];
const patientOf = [...new Array<number>(10).fill(0), ...new Array<number>(10).fill(1)];
const hourOf = [...Array.from({ length: 10 }, (_, h) => h), ...Array.from({ length: 10 }, (_, h) => h)];
const bands = { medium: 0.4, high: 0.8 };
// The model: medium on patient 0's hours 6–9, high on patient 1's hour 0, low elsewhere.
const probability = y.map((_, i) => (i >= 6 && i <= 9 ? 0.5 : i === 10 ? 0.9 : 0.1));
// NEWS2: 7 (emergency → high) on patient 0's hours 2–5, where the model says low; 8 at hour 8,
// where the model says medium; on patient 1's hour 5 a total of 2 but the pulse scores 3.
const features: FeatureValues[] = y.map((_, i) => {
  const f: FeatureValues = { news2_total: i >= 2 && i <= 5 ? 7 : i === 8 ? 8 : i === 15 ? 2 : 0 };
  for (const [name] of NEWS2_PART_FEATURES) f[name] = null;
  if (i === 15) f.news2_heart_rate = 3;
  return f;
});
const news2 = features.map((f) => f.news2_total!);

function evaluate(withFloor: boolean) {
  return evaluateClinically({
    y,
    patientOf,
    hourOf,
    probability,
    news2,
    qsofa: new Array<number>(20).fill(0),
    alarmThreshold: null,
    bands,
    bootstrap: 0,
    ...(withFloor ? { news2Features: (i: number) => features[i]! } : {}),
  });
}

describe('the served band (NEWS2 floor) in the clinical evaluation', () => {
  it('each row served exactly as servedBand says: never calmer than NEWS2, a single parameter at 3 at least medium', () => {
    const s = servedBandsOf(probability, bands, (i) => features[i]!);
    const name = ['low', 'medium', 'high'];
    expect(Array.from(s.model, (b) => name[b])).toEqual([...'llllllmmmm', ...'hlllllllll'].map((c) => ({ l: 'low', m: 'medium', h: 'high' })[c]));
    // Patient 0's hours 2–5 raised to high, hour 8 medium → high; patient 1's hour 5 (pulse 3) to medium.
    expect(Array.from(s.served, (b) => name[b])).toEqual([...'llhhhhmmhm', ...'hllllmllll'].map((c) => ({ l: 'low', m: 'medium', h: 'high' })[c]));
    expect(s.served[15]).toBeGreaterThanOrEqual(1);
    expect(s.floor).toEqual({ hoursRaised: 6, shareRaised: 0.3, lowToMedium: 1, lowToHigh: 4, mediumToHigh: 1, bySingleParameterThree: 1, servedHours: { low: 10, medium: 4, high: 6 }, modelHours: { low: 15, medium: 4, high: 1 } });
  });

  it('served ≥ medium and served = high beside the model alone, by the exact amounts the floor adds', () => {
    const e = evaluate(true);
    const [medium, high] = e.operatingPoints;
    // Model alone ≥ medium: 5 hours flagged (4 of the 6 positive); served: 10 (all 6).
    expect(medium!.model).toMatchObject({ alertRate: 0.25, sensitivity: 0.6667, ppv: 0.8 });
    expect(medium!.served).toMatchObject({ threshold: 1, alertRate: 0.5, sensitivity: 1, ppv: 0.6 });
    expect(medium!.served!.alertRate - medium!.model.alertRate).toBeCloseTo(0.25, 12);
    expect(medium!.served!.sensitivity - medium!.model.sensitivity).toBeCloseTo(0.3333, 12);
    // Model alone = high: 1 hour (negative); served: 6 hours, 3 of them positive.
    expect(high!.model).toMatchObject({ alertRate: 0.05, sensitivity: 0, ppv: 0 });
    expect(high!.served).toMatchObject({ threshold: 2, alertRate: 0.3, sensitivity: 0.5, ppv: 0.5 });
    expect(medium!.model.label).toMatch(/before the NEWS2 floor/);
    expect(medium!.served!.label).toMatch(/^served band ≥ medium.*ward/);
    expect(high!.served!.label).toMatch(/^served band = high.*ward/);
    expect(e.servedBand).toMatchObject({ hoursRaised: 6, lowToHigh: 4, bySingleParameterThree: 1 });
    // The served rows have their utility, like every other rule.
    expect(medium!.served!.utility).not.toBeNull();
    expect(formatClinicalSummary(e)).toMatch(/served band ≥ medium.*alert rate 50\.0 %/);
    expect(formatClinicalSummary(e)).toMatch(/NEWS2 floor raised 6 of 20 scored rows \(30\.0 %\)/);
  });

  it('bootstrap intervals for the served rows too; without NEWS2 parts no served figures, nothing else moves', () => {
    const withBootstrap = evaluateClinically({ y, patientOf, hourOf, probability, news2, qsofa: new Array<number>(20).fill(0), alarmThreshold: 0.8, bands, bootstrap: 20, news2Features: (i) => features[i]! });
    expect(withBootstrap.operatingPoints[0]!.served!.utilityCi).not.toBeNull();
    const without = evaluate(false);
    expect(without.servedBand).toBeNull();
    expect(without.operatingPoints.map((o) => o.served)).toEqual([null, null]);
    // The NEWS2-complete subset needs the parameters too.
    expect(without.completeNews2).toBeNull();
    const { servedBand: _s, operatingPoints: a, completeNews2: _c, ...rest } = evaluate(true);
    const { servedBand: _t, operatingPoints: b, completeNews2: _d, ...restWithout } = without;
    expect(rest).toEqual(restWithout);
    expect(a.map((o) => [o.news2, o.model])).toEqual(b.map((o) => [o.news2, o.model]));
  });

  it('reads NEWS2 from feature-matrix rows as the message carries it (NaN = not measured)', () => {
    const cols = FEATURE_COUNT;
    const X = new Float32Array(3 * cols).fill(NaN);
    X[0 * cols + featureIndex('news2_total')] = 2;
    X[0 * cols + featureIndex('news2_spo2')] = 3;
    X[1 * cols + featureIndex('news2_total')] = 7;
    X[2 * cols + featureIndex('news2_total')] = 1;
    X[2 * cols + featureIndex('news2_heart_rate')] = 1;
    const of = news2FeaturesOf(X, cols, [2, 0, 1]);
    expect(of(0)).toMatchObject({ news2_total: 1, news2_heart_rate: 1, news2_spo2: null });
    expect(of(1)).toMatchObject({ news2_total: 2, news2_spo2: 3, news2_heart_rate: null });
    const s = servedBandsOf([0.1, 0.1, 0.1], bands, of);
    expect(Array.from(s.served)).toEqual([0, 1, 2]);
  });
});
