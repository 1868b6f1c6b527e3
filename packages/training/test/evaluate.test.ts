import { createRandom } from '@ehr/features';
import { auprc, auroc } from '@ehr/model';
import { describe, expect, it } from 'vitest';
import { equalCountBins, evaluate, weightedRanking } from '../src/index.js';

function sample(n: number, seed: number) {
  const r = createRandom(seed);
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  const news2 = new Float64Array(n);
  const patientOf = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    patientOf[i] = Math.floor(i / 20);
    y[i] = r.chance(0.15) ? 1 : 0;
    p[i] = Math.round(Math.min(1, Math.max(0, 0.15 + (y[i] ? 0.25 : 0) + 0.2 * r.normal())) * 50) / 50; // ties on purpose
    news2[i] = Math.max(0, Math.min(20, Math.round(3 + (y[i] ? 2 : 0) + 2 * r.normal())));
  }
  return { y, p, news2, patientOf };
}

describe('evaluation against NEWS2', () => {
  it('the bootstrap\'s one-pass weighted AUROC/AUPRC equal the model package\'s metrics at unit weights, ties included', () => {
    const { y, p } = sample(3000, 1);
    const order = Uint32Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
    const groupEnd = Uint8Array.from(order, (i, k) => (k + 1 === order.length || p[order[k + 1]!] !== p[i] ? 1 : 0));
    const w = new Float64Array(p.length).fill(1);
    const r = weightedRanking({ order, groupEnd }, y, w);
    expect(r.auroc).toBeCloseTo(auroc(y, p), 12);
    expect(r.auprc).toBeCloseTo(auprc(y, p), 12);
    // Weight 2 on a row = the row twice.
    w[5] = 2;
    const dupIdx = [...Array.from({ length: p.length }, (_, i) => i), 5];
    const y2 = dupIdx.map((i) => y[i]!);
    const p2 = dupIdx.map((i) => p[i]!);
    expect(weightedRanking({ order, groupEnd }, y, w).auroc).toBeCloseTo(auroc(y2, p2), 12);
  });

  it('scores model and NEWS2 on the same rows, with confusion matrices at the bands and at NEWS2 5 / 7, and patient-level intervals around the estimates', () => {
    const { y, p, news2, patientOf } = sample(4000, 2);
    const e = evaluate({ y, probability: p, rawProbability: p, news2, patientOf, bands: { medium: 0.2, high: 0.4 }, bootstrap: 100, seed: 3 });
    expect(e.rows).toBe(4000);
    expect(e.patients).toBe(200);
    expect(e.model.auroc).toBeCloseTo(auroc(y, p), 4);
    expect(e.news2.auroc).toBeCloseTo(auroc(y, news2), 4);
    expect(e.model.confusion.map((c) => c.matrix.threshold)).toEqual([0.2, 0.4]);
    expect(e.news2.confusion.map((c) => c.matrix.threshold)).toEqual([5, 7]);
    const flagged = Array.from(news2).filter((s) => s >= 5).length;
    expect(e.news2.confusion[0]!.matrix.tp + e.news2.confusion[0]!.matrix.fp).toBe(flagged);
    for (const s of [e.model, e.news2]) {
      expect(s.ci!.auroc.low).toBeLessThanOrEqual(s.auroc);
      expect(s.ci!.auroc.high).toBeGreaterThanOrEqual(s.auroc);
      expect(s.ci!.auroc.high - s.ci!.auroc.low).toBeGreaterThan(0);
      expect(s.roc.length).toBeLessThanOrEqual(400);
      expect(s.brier).toBeGreaterThan(0);
    }
    expect(e.bootstrap.resamples).toBe(100);
    expect(e.difference.ci!.auroc.low).toBeLessThanOrEqual(e.difference.auroc);
    expect(e.news2Calibration).toBe('test (in-sample)');
    // The same seed gives the same intervals.
    expect(evaluate({ y, probability: p, rawProbability: p, news2, patientOf, bands: null, bootstrap: 100, seed: 3 }).model.ci).toEqual(e.model.ci);
  });

  it('the reliability plot bins rows by predicted probability into groups of about equal size, ties together', () => {
    const { y, p } = sample(2000, 4);
    const bins = equalCountBins(y, p, 10);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(2000);
    for (let k = 1; k < bins.length; k++) expect(bins[k]!.meanPredicted).toBeGreaterThan(bins[k - 1]!.meanPredicted);
    let positives = 0;
    for (const v of y) positives += v;
    expect(bins.reduce((a, b) => a + b.fractionPositive * b.count, 0)).toBeCloseTo(positives, 6);
    expect(equalCountBins([0, 1, 0, 1], [0.2, 0.2, 0.2, 0.2], 4)).toEqual([{ meanPredicted: 0.2, fractionPositive: 0.5, count: 4 }]);
  });
});
