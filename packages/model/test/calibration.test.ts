import { createRandom } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import {
  applyCalibration,
  bandOf,
  chooseBands,
  featureDistribution,
  fitCalibration,
  fitIsotonic,
  fitPlatt,
  liveCounts,
  parseTrainingCsv,
  psi,
} from '../src/index.js';

describe('calibration', () => {
  it('isotonic: pool-adjacent-violators with interpolation and clipping', () => {
    const iso = fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1]);
    expect(iso).toEqual({ x: [0.1, 0.2, 0.3, 0.4], y: [0, 0.5, 0.5, 1] });
    const cal = { method: 'isotonic' as const, ...iso };
    expect(applyCalibration(cal, 0)).toBe(0);
    expect(applyCalibration(cal, 0.15)).toBeCloseTo(0.25, 12);
    expect(applyCalibration(cal, 0.25)).toBe(0.5);
    expect(applyCalibration(cal, 0.35)).toBeCloseTo(0.75, 12);
    expect(applyCalibration(cal, 2)).toBe(1);
    // ties in the score are pooled before fitting
    expect(fitIsotonic([0.5, 0.5, 0.5, 0.9], [1, 0, 0, 1])).toEqual({ x: [0.5, 0.9], y: [1 / 3, 1] });
  });

  it('Platt: recovers a known logistic relation', () => {
    const r = createRandom(3);
    const s: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const v = r.next();
      s.push(v);
      y.push(r.chance(1 / (1 + Math.exp(-(4 * v - 2)))) ? 1 : 0);
    }
    const { a, b } = fitPlatt(s, y);
    expect(a).toBeCloseTo(4, 0);
    expect(b).toBeCloseTo(-2, 0);
    expect(applyCalibration({ method: 'platt', a, b }, 0.5)).toBeCloseTo(0.5, 1);
  });
});

describe('a calibration never reverses the forest\'s order', () => {
  it('refuses a Platt fit whose slope falls (validation scores running against the labels)', () => {
    const s = [0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.12, 0.88];
    const y = [1, 1, 1, 0, 0, 0, 1, 0];
    expect(fitPlatt(s, y).a).toBeLessThan(0);
    expect(() => fitCalibration('platt', s, y)).toThrow(/Platt calibration fitted a slope of -/);
    expect(fitCalibration('platt', [0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toMatchObject({ method: 'platt', a: expect.any(Number) });
  });
});

describe('bands', () => {
  // 10 positives with scores 0.91..1.0 spread among negatives
  const p = [0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
  const y = [0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1];
  it('sensitivity rule: the highest threshold that catches the target share of positives', () => {
    // positives at 0.2, 0.35, 0.5, 0.7, 0.8, 0.95 (6). 80 % → 5 of 6 → threshold 0.35; 40 % → 3 of 6 → 0.7
    const b = chooseBands(y, p, { rule: 'sensitivity', medium: 0.8, high: 0.4 });
    expect(b.medium).toBe(0.35);
    expect(b.high).toBe(0.7);
    expect(b.validation.medium.sensitivity).toBeCloseTo(5 / 6, 12);
    expect(b.validation.high.tp).toBe(3);
    expect(bandOf(0.7, b)).toBe('high');
    expect(bandOf(0.69, b)).toBe('medium');
    expect(bandOf(0.35, b)).toBe('medium');
    expect(bandOf(0.3, b)).toBe('low');
  });

  it('alert-rate rule: the lowest threshold flagging at most the target share of rows', () => {
    const b = chooseBands(y, p, { rule: 'alertRate', medium: 0.5, high: 0.25 });
    expect(b.medium).toBe(0.5); // 6 of 12 rows flagged
    expect(b.high).toBe(0.8); // 3 of 12
    expect(b.validation.high.alertRate).toBe(0.25);
    expect(() => chooseBands(y, p, { rule: 'alertRate', medium: 0.1, high: 0.5 })).toThrow(/must not exceed/);
  });

  it('alert-rate rule: rows tied at the top beyond the target are the band, whatever the top score (never an empty band)', () => {
    // 10 % of rows tied at the top score, against targets of 8 % and 5 %.
    const labels = Array.from({ length: 100 }, (_, i) => (i < 10 || i % 9 === 0 ? 1 : 0));
    for (const top of [1, 0.97]) {
      const scores = Array.from({ length: 100 }, (_, i) => (i < 10 ? top : 0.5 - i / 1000));
      const b = chooseBands(labels, scores, { rule: 'alertRate', medium: 0.08, high: 0.05 });
      expect(b.high, `top ${top}`).toBe(top);
      expect(b.validation.high.alertRate, `top ${top}`).toBe(0.1);
      expect(bandOf(top, b)).toBe('high');
    }
  });
});

describe('drift (PSI)', () => {
  const r = createRandom(5);
  const train = Array.from({ length: 5000 }, () => r.normal(0, 1)).sort((a, b) => a - b);
  const dist = featureDistribution('hr', train, 500);
  it('deciles with a separate missing bucket summing to 1', () => {
    expect(dist.edges).toHaveLength(9);
    expect(dist.missingRate).toBeCloseTo(500 / 5500, 12);
    expect(dist.proportions.reduce((a, b) => a + b, 0) + dist.missingRate).toBeCloseTo(1, 12);
  });
  it('psi is ~0 for the same distribution and large for a shift or a missingness jump', () => {
    const same = liveCounts(dist, [...Array.from({ length: 5000 }, () => r.normal(0, 1)), ...Array<null>(500).fill(null)]);
    expect(psi(dist, same)).toBeLessThan(0.02);
    const shifted = liveCounts(dist, Array.from({ length: 5000 }, () => r.normal(1, 1)));
    expect(psi(dist, shifted)).toBeGreaterThan(0.25);
    expect(psi(dist, { counts: dist.proportions.map(() => 0), missing: 100 })).toBeGreaterThan(1);
    expect(() => psi(dist, { counts: [1, 2], missing: 0 })).toThrow(/bins/);
  });
});

describe('training CSV', () => {
  it('parses numbers, empty cells as missing, and the label column', () => {
    const d = parseTrainingCsv('a,b,label\n1,,0\n2.5,3,1\n');
    expect(d.featureNames).toEqual(['a', 'b']);
    expect(d.X.rows).toBe(2);
    expect(Array.from(d.X.data)).toEqual([1, NaN, 2.5, 3]);
    expect(Array.from(d.y)).toEqual([0, 1]);
  });
  it('names the line and column of bad cells', () => {
    expect(() => parseTrainingCsv('a,label\nx,0\n', 't.csv')).toThrow("t.csv: line 2, column 'a': 'x' is not a number");
    expect(() => parseTrainingCsv('a,b\n1,0\n')).toThrow(/last column must be 'label'/);
    expect(() => parseTrainingCsv('a,label\n1,2\n')).toThrow(/label must be 0 or 1/);
    expect(() => parseTrainingCsv('a,label\n1\n')).toThrow(/line 2 has 1 cells/);
  });
});
