import { describe, expect, it } from 'vitest';
import {
  auprc,
  auroc,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  expectedCalibrationError,
  prCurve,
  rocCurve,
  summarize,
} from '../src/index.js';

describe('metrics on hand-computed cases', () => {
  it('AUROC counts pairs, ties as one half', () => {
    expect(auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    // pos {0.5, 0.9} vs neg {0.5, 0.2}: 0.5 + 1 + 1 + 1 = 3.5 of 4 pairs
    expect(auroc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(auroc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3])).toBeCloseTo(0.5, 12);
    expect(auroc([1, 1, 0], [0.9, 0.8, 0.1])).toBe(1);
    expect(auroc([1, 1], [0.9, 0.8])).toBeNaN();
  });

  it('AUPRC is average precision (scikit-learn definition)', () => {
    // scikit-learn's documented example: 0.8333…
    expect(auprc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(5 / 6, 12);
    // ties form one threshold: both rows at 0.5 enter together (P = 1/2, R = 1)
    expect(auprc([0, 1], [0.5, 0.5])).toBeCloseTo(0.5, 12);
    expect(auprc([1, 0, 1], [0.9, 0.8, 0.1])).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
  });

  it('Brier score', () => {
    expect(brierScore([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])).toBeCloseTo(0.0375, 12);
  });

  it('ECE over 10 equal-width bins', () => {
    expect(expectedCalibrationError([0, 0, 1, 1], [0.05, 0.05, 0.95, 0.95])).toBeCloseTo(0.05, 12);
    expect(expectedCalibrationError([1, 0, 0, 0, 0], [0.2, 0.2, 0.2, 0.2, 0.2])).toBeCloseTo(0, 12);
    // bins: {0.1: y 0} → 0.1·¼; {0.3: 1, 0.35: 0} → |0.5 − 0.325|·½; {0.9: 1} → 0.1·¼
    expect(expectedCalibrationError([0, 1, 0, 1], [0.1, 0.3, 0.35, 0.9])).toBeCloseTo(0.025 + 0.0875 + 0.025, 12);
    // p = 1 falls in the last bin
    expect(calibrationCurve([1], [1])).toEqual([{ lower: 0.9, upper: 1, count: 1, meanPredicted: 1, fractionPositive: 1 }]);
  });

  it('ROC and PR curve points', () => {
    const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(roc.map((p) => [p.fpr, p.tpr])).toEqual([[0, 0], [0, 0.5], [0.5, 0.5], [0.5, 1], [1, 1]]);
    expect(roc[0]!.threshold).toBe(Infinity);
    const pr = prCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(pr.map((p) => [p.threshold, p.precision, p.recall])).toEqual([
      [0.8, 1, 0.5],
      [0.4, 0.5, 0.5],
      [0.35, 2 / 3, 1],
      [0.1, 0.5, 1],
    ]);
  });

  it('confusion matrix flags score >= threshold', () => {
    const c = confusionMatrix([0, 0, 1, 1, 1], [0.1, 0.5, 0.5, 0.7, 0.2], 0.5);
    expect(c).toMatchObject({ tp: 2, fp: 1, tn: 1, fn: 1, alertRate: 3 / 5 });
    expect(c.sensitivity).toBeCloseTo(2 / 3, 12);
    expect(c.specificity).toBeCloseTo(1 / 2, 12);
    expect(c.ppv).toBeCloseTo(2 / 3, 12);
    expect(c.npv).toBeCloseTo(1 / 2, 12);
  });

  it('summarize and input checks', () => {
    expect(summarize([0, 1], [0.2, 0.7])).toMatchObject({ rows: 2, positives: 1, auroc: 1, auprc: 1 });
    expect(() => auroc([0, 1], [0.5])).toThrow(/differ in length/);
    expect(() => auroc([0, 1], [0.5, NaN])).toThrow(/NaN/);
  });
});
