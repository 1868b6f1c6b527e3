import { describe, expect, it } from 'vitest';
import {
  auroc,
  binOf,
  ForestPredictor,
  MISSING_SENTINEL,
  parseTrainingCsv,
  quantileCuts,
  resolveMaxFeatures,
  trainForest,
  type FlatForest,
} from '../src/index.js';
import { nonlinearProblem } from './helpers.js';

function forestBytes(f: FlatForest): string {
  return [f.roots, f.feature, f.threshold, f.left, f.right, f.value, f.samples]
    .map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'))
    .join('|');
}

describe('binning', () => {
  it('gives each distinct value its own bin when there are few, cutting at midpoints', () => {
    expect(quantileCuts([1, 1, 2, 3, 3, 3], 255)).toEqual([1.5, 2.5]);
    expect(quantileCuts([], 255)).toEqual([]);
  });

  it('caps the number of bins and keeps "bin <= b" equal to "v < edges[b]"', () => {
    const values = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 100).sort();
    const cuts = quantileCuts(values, 16);
    expect(cuts.length).toBeLessThanOrEqual(15);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]!).toBeGreaterThan(cuts[i - 1]!);
    for (const v of values) {
      const bin = binOf(cuts, v);
      for (let b = 0; b < cuts.length; b++) expect(bin <= b).toBe(v < cuts[b]!);
    }
  });

  it('resolves maxFeatures like scikit-learn', () => {
    expect(resolveMaxFeatures('sqrt', 60)).toBe(7);
    expect(resolveMaxFeatures('log2', 60)).toBe(5);
    expect(resolveMaxFeatures('all', 60)).toBe(60);
    expect(resolveMaxFeatures(0.25, 60)).toBe(15);
    expect(resolveMaxFeatures(12, 60)).toBe(12);
    expect(resolveMaxFeatures(0.001, 60)).toBe(1);
    expect(() => resolveMaxFeatures(-1, 60)).toThrow(/maxFeatures/);
  });
});

describe('trainForest', () => {
  it('learns a known nonlinear rule (held-out AUROC > 0.9)', async () => {
    const train = nonlinearProblem(4000, 1, { noise: 0.05 });
    const test = nonlinearProblem(2000, 2, { noise: 0.05 });
    const t = await trainForest(train.X, train.y, { nTrees: 60, maxDepth: 10, minSamplesLeaf: 3, seed: 3, workers: 1 });
    const p = new ForestPredictor(t.forest).predictProbaBatch(test.X);
    expect(auroc(test.y, p)).toBeGreaterThan(0.9);
    // The signal features dominate the impurity-based importance.
    const imp = Array.from(t.featureImportance);
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const top4 = imp.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 4).map(([, i]) => i).sort();
    expect(top4).toEqual([0, 1, 2, 3]);
  });

  it('is deterministic: same seed → identical forest, with 1 or 2 worker threads', async () => {
    const d = nonlinearProblem(1500, 5, { noise: 0.1, missing: true });
    const opts = { nTrees: 12, maxDepth: 8, minSamplesLeaf: 2, seed: 42 };
    const a = await trainForest(d.X, d.y, { ...opts, workers: 1 });
    const b = await trainForest(d.X, d.y, { ...opts, workers: 2 });
    const c = await trainForest(d.X, d.y, { ...opts, workers: 1 });
    expect(forestBytes(b.forest)).toBe(forestBytes(a.forest));
    expect(forestBytes(c.forest)).toBe(forestBytes(a.forest));
    expect(Array.from(b.featureImportance)).toEqual(Array.from(a.featureImportance));
    const other = await trainForest(d.X, d.y, { ...opts, seed: 43, workers: 1 });
    expect(forestBytes(other.forest)).not.toBe(forestBytes(a.forest));
  });

  it('reports progress once per tree', async () => {
    const d = nonlinearProblem(300, 6);
    const seen: number[] = [];
    await trainForest(d.X, d.y, { nTrees: 5, seed: 1, workers: 2, onProgress: (done, total) => { expect(total).toBe(5); seen.push(done); } });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives probabilities in [0, 1] at every node; pre-order layout', async () => {
    const d = nonlinearProblem(2000, 7, { noise: 0.1, missing: true });
    const { forest } = await trainForest(d.X, d.y, { nTrees: 10, seed: 9, workers: 1, classWeight: 'balanced' });
    for (let i = 0; i < forest.value.length; i++) {
      expect(forest.value[i]).toBeGreaterThanOrEqual(0);
      expect(forest.value[i]).toBeLessThanOrEqual(1);
      if (forest.feature[i]! >= 0) {
        expect(forest.left[i]).toBe(i + 1);
        expect(forest.right[i]).toBeGreaterThan(i + 1);
        expect(forest.threshold[i]).toBeGreaterThan(MISSING_SENTINEL);
        // children partition the parent's rows
        expect(forest.samples[forest.left[i]!]! + forest.samples[forest.right[i]!]!).toBe(forest.samples[i]);
      }
    }
    const p = new ForestPredictor(forest).predictProbaBatch(d.X);
    for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('thresholds on real values reproduce the training partition exactly (no bootstrap, one tree)', async () => {
    const d = nonlinearProblem(3000, 11, { missing: true });
    // round values so that many ties sit right at candidate thresholds
    const X = d.X.map((r) => r.map((v) => (v === null ? null : Math.round(v * 50) / 50)));
    const { forest } = await trainForest(X, d.y, { nTrees: 1, bootstrap: false, maxDepth: 9, seed: 2, workers: 1 });
    const reached = new Int32Array(forest.feature.length);
    for (const row of X) {
      let node = forest.roots[0]!;
      reached[node]!++;
      while (forest.feature[node]! >= 0) {
        const v = row[forest.feature[node]!] ?? MISSING_SENTINEL;
        node = v < forest.threshold[node]! ? forest.left[node]! : forest.right[node]!;
        reached[node]!++;
      }
    }
    expect(Array.from(reached)).toEqual(Array.from(forest.samples));
  });

  it('sends missing values left at every split, identically for null, NaN, undefined and the sentinel', async () => {
    const d = nonlinearProblem(3000, 13, { missing: true });
    const { forest } = await trainForest(d.X, d.y, { nTrees: 20, seed: 4, workers: 1 });
    const pred = new ForestPredictor(forest);
    const base = d.X[0]!.map((v) => v ?? 0.5);
    const variants = [null, NaN, undefined, MISSING_SENTINEL, -Infinity].map((m) => {
      const row: (number | null | undefined)[] = [...base];
      row[4] = m;
      return pred.predictProba(row);
    });
    for (const v of variants) expect(v).toBe(variants[0]);
    // every split on feature 4 sends the missing row left
    for (let i = 0; i < forest.feature.length; i++) if (forest.feature[i] === 4) expect(MISSING_SENTINEL < forest.threshold[i]!).toBe(true);
    // the informative missingness was learned: missing x4 raises the risk on average
    const rows = d.X.slice(0, 300);
    const withMissing = rows.map((r) => { const c = [...r]; c[4] = null; return pred.predictProba(c); });
    const without = rows.map((r) => pred.predictProba(r.map((v) => v ?? 0.5)));
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(withMissing)).toBeGreaterThan(mean(without));
  });

  it('rejects bad input with clear errors', async () => {
    await expect(trainForest([[1], [2]], [0, 2])).rejects.toThrow(/labels must be 0 or 1/);
    await expect(trainForest([[1], [2]], [1, 1])).rejects.toThrow(/both classes/);
    await expect(trainForest([[1], [2, 3]], [0, 1])).rejects.toThrow(/row 1 has 2 values/);
    await expect(trainForest([[1], [2]], [0, 1], { minSamplesLeaf: 0 })).rejects.toThrow(/minSamplesLeaf/);
  });
});

describe('contributions (Saabas)', () => {
  it('bias + contributions = prediction, and top-k is ordered by |contribution|', async () => {
    const d = nonlinearProblem(2000, 21, { noise: 0.05, missing: true });
    const { forest } = await trainForest(d.X, d.y, { nTrees: 25, seed: 5, workers: 1 });
    const pred = new ForestPredictor(forest);
    for (const row of d.X.slice(0, 50)) {
      const e = pred.explain(row, 3, d.names);
      const total = e.bias + Array.from(e.all).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(e.prediction, 12);
      expect(e.prediction).toBeCloseTo(pred.predictProba(row), 14);
      expect(e.top.length).toBeLessThanOrEqual(3);
      for (let i = 1; i < e.top.length; i++) expect(Math.abs(e.top[i - 1]!.contribution)).toBeGreaterThanOrEqual(Math.abs(e.top[i]!.contribution));
      for (const c of e.top) expect(c.name).toBe(d.names[c.feature]);
    }
    // bias is the mean root value: close to the bootstrap positive rate
    const rate = d.y.reduce((a, b) => a + b, 0) / d.y.length;
    expect(pred.explain(d.X[0]!).bias).toBeCloseTo(rate, 1);
  });
});

describe('training input is checked before the work, not after', () => {
  it('refuses an infinite value naming its row and column (it became a threshold the sealed forest refused)', async () => {
    const X = [
      [1, 2],
      [3, Infinity],
      [5, 6],
      [7, 8],
    ];
    await expect(trainForest(X, [0, 1, 0, 1], { nTrees: 2, seed: 1, workers: 0 })).rejects.toThrow(/row 1, column 1: an infinite value/);
    await expect(trainForest({ rows: 2, cols: 1, data: Float64Array.of(-Infinity, 1) }, [0, 1], { nTrees: 2, seed: 1, workers: 0 })).rejects.toThrow(/row 0, column 0: an infinite value/);
  });

  it('refuses repeated or empty feature names (the artifact would not load)', async () => {
    const X = [
      [1, 2],
      [3, 4],
    ];
    await expect(trainForest(X, [0, 1], { nTrees: 2, seed: 1, workers: 0, featureNames: ['a', 'a'] })).rejects.toThrow(/'a' names two features/);
    await expect(trainForest(X, [0, 1], { nTrees: 2, seed: 1, workers: 0, featureNames: ['a', ''] })).rejects.toThrow(/a feature without a name/);
    expect(() => parseTrainingCsv('a,a,label\n1,2,0\n', 'x.csv')).toThrow(/x.csv: the header names 'a' twice/);
    expect(() => parseTrainingCsv('a,,label\n1,2,0\n', 'x.csv')).toThrow(/column 2 of the header has no name/);
  });
});
