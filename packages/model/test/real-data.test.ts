import { describe, expect, it } from 'vitest';
import {
  ForestPredictor,
  auroc,
  fitCalibration,
  fitIsotonic,
  modelCard,
  sawPatient,
  seenPatientsOf,
  strictIsotonic,
  trainForest,
  trainSeverityModel,
  validateArtifact,
  withArtifactFields,
} from '../src/index.js';
import { nonlinearProblem } from './helpers.js';

/** A rare outcome (about 5 % positive): XOR of x0 and x1, only where x2 < 0.1. */
function rare(n: number, seed: number) {
  const p = nonlinearProblem(n, seed);
  p.y = p.X.map((r) => (((r[0]! > 0.5) !== (r[1]! > 0.5)) && r[2]! < 0.1 ? 1 : 0));
  return p;
}

describe('balanced bootstrap (rare outcomes)', () => {
  it('each tree draws every positive-class row count and r negatives per positive; same seed, same forest', async () => {
    const { X, y } = rare(4000, 3);
    const positives = y.reduce((a, b) => a + b, 0);
    const a = await trainForest(X, y, { nTrees: 8, seed: 5, workers: 1, balancedBootstrap: 2 });
    const b = await trainForest(X, y, { nTrees: 8, seed: 5, workers: 1, balancedBootstrap: 2 });
    expect(Array.from(a.forest.value)).toEqual(Array.from(b.forest.value));
    expect(a.hyperparameters).toMatchObject({ balancedBootstrap: 2, samplesPerTree: positives + 2 * positives });
    // Roots see balanced draws: the root value is about 1/3 positive (by draws), not the 5 % prevalence.
    for (let t = 0; t < a.forest.nTrees; t++) expect(a.forest.value[a.forest.roots[t]!]).toBeCloseTo(1 / 3, 6);
    const plain = await trainForest(X, y, { nTrees: 8, seed: 5, workers: 1 });
    expect(plain.forest.value[plain.forest.roots[0]!]).toBeLessThan(0.1);
  });

  it('ranks the rare outcome at least as well as the plain bootstrap here', async () => {
    const train = rare(6000, 11);
    const test = rare(3000, 12);
    const bal = new ForestPredictor((await trainForest(train.X, train.y, { nTrees: 30, seed: 1, workers: 1, balancedBootstrap: 1 })).forest);
    const pl = new ForestPredictor((await trainForest(train.X, train.y, { nTrees: 30, seed: 1, workers: 1, maxDepth: 6 })).forest);
    const score = (m: ForestPredictor) => auroc(test.y, test.X.map((r) => m.predictProba(r)));
    expect(score(bal)).toBeGreaterThan(0.85);
    expect(score(bal)).toBeGreaterThanOrEqual(score(pl) - 0.01);
  });

  it('maxSamples sets the balanced draws per tree (1 : r), not every positive', async () => {
    const { X, y } = rare(4000, 3);
    const f = await trainForest(X, y, { nTrees: 6, seed: 5, workers: 1, balancedBootstrap: 2, maxSamples: 150 });
    expect(f.hyperparameters).toMatchObject({ balancedBootstrap: 2, maxSamples: 150, samplesPerTree: 50 + 100 });
    for (let t = 0; t < f.forest.nTrees; t++) {
      const root = f.forest.roots[t]!;
      expect(f.forest.value[root]).toBeCloseTo(1 / 3, 6); // 50 positive and 100 negative draws
      expect(f.forest.samples[root]).toBeLessThanOrEqual(150);
    }
  });

  it('refuses a non-positive ratio, or balancing without the bootstrap', async () => {
    const { X, y } = rare(200, 1);
    await expect(trainForest(X, y, { nTrees: 1, balancedBootstrap: 0, workers: 1 })).rejects.toThrow(/balancedBootstrap/);
    await expect(trainForest(X, y, { nTrees: 1, balancedBootstrap: 1, bootstrap: false, workers: 1 })).rejects.toThrow(/needs bootstrap/);
  });
});

describe('per-row sample weights (weighted bootstrap)', () => {
  const { X, y } = rare(3000, 7);
  it('equal weights draw exactly the unweighted bootstrap, balanced or not', async () => {
    const ones = y.map(() => 1);
    for (const extra of [{}, { balancedBootstrap: 3 }]) {
      const a = await trainForest(X, y, { nTrees: 4, seed: 2, workers: 1, ...extra });
      const b = await trainForest(X, y, { nTrees: 4, seed: 2, workers: 1, ...extra, sampleWeight: ones });
      expect(Array.from(b.forest.threshold)).toEqual(Array.from(a.forest.threshold));
      expect(b.hyperparameters.sampleWeight).toBe('per row');
    }
  });

  it('a row of weight 0 is never drawn; the same forest on 1 or 2 workers', async () => {
    // Rows with x5 > 0.5 get weight 0: no tree can split x5 above the values it saw.
    const w = X.map((r) => (r[5]! > 0.5 ? 0 : 1));
    const a = await trainForest(X, y, { nTrees: 12, seed: 4, workers: 1, balancedBootstrap: 2, sampleWeight: w, maxDepth: 20 });
    const f = a.forest;
    let x5Splits = 0;
    for (let k = 0; k < f.feature.length; k++) {
      if (f.feature[k] !== 5) continue;
      x5Splits++;
      expect(f.threshold[k]).toBeLessThan(0.51);
    }
    expect(x5Splits).toBeGreaterThan(0);
    const b = await trainForest(X, y, { nTrees: 12, seed: 4, workers: 2, balancedBootstrap: 2, sampleWeight: w, maxDepth: 20 });
    expect(Array.from(b.forest.threshold)).toEqual(Array.from(f.threshold));
  });

  it('refuses weights of the wrong length, negative or not finite, or without the bootstrap', async () => {
    await expect(trainForest(X, y, { nTrees: 1, workers: 1, sampleWeight: [1, 2] })).rejects.toThrow(/3000 rows/);
    await expect(trainForest(X, y, { nTrees: 1, workers: 1, sampleWeight: y.map((_, i) => (i === 9 ? -1 : 1)) })).rejects.toThrow(/row 9/);
    await expect(trainForest(X, y, { nTrees: 1, workers: 1, sampleWeight: y.map(() => NaN) })).rejects.toThrow(/finite/);
    await expect(trainForest(X, y, { nTrees: 1, workers: 1, bootstrap: false, sampleWeight: y.map(() => 1) })).rejects.toThrow(/needs bootstrap/);
    await expect(trainForest(X, y, { nTrees: 1, workers: 1, balancedBootstrap: 1, sampleWeight: y.map((v) => v) })).rejects.toThrow(/no row with positive weight/);
  });
});

describe('strictly increasing isotonic calibration', () => {
  it('tilts flat blocks by at most a quarter step: no new ties, order kept, values close', () => {
    const scores = Array.from({ length: 400 }, (_, i) => i / 400);
    const labels = scores.map((s, i) => (s > 0.7 ? 1 : i % 9 === 0 ? 1 : 0));
    const fit = fitIsotonic(scores, labels);
    const strict = strictIsotonic(fit);
    for (let i = 1; i < strict.y.length; i++) if (strict.x[i]! > strict.x[i - 1]!) expect(strict.y[i]!).toBeGreaterThan(strict.y[i - 1]!);
    const steps = fit.y.slice(1).map((v, i) => v - fit.y[i]!).filter((d) => d > 0);
    const maxShift = Math.max(...strict.y.map((v, i) => Math.abs(v - fit.y[i]!)));
    expect(maxShift).toBeLessThanOrEqual(0.25 * Math.max(...steps, fit.y[0]!) + 1e-12);
    expect(strict.y[0]).toBe(fit.y[0]! - 0.25 * fit.y[0]!);
    expect(strict.y.at(-1)).toBe(1);
    const cal = fitCalibration('isotonic', scores, labels, { strict: true });
    expect(cal).toEqual({ method: 'isotonic', ...strict });
  });
});

describe('artifact: what the model learned from, and whom it saw', () => {
  it('records provenance, label, alarm and seen patients, resealed with a new content hash; the card shows them', async () => {
    const { X, y } = nonlinearProblem(600, 2);
    const { artifact } = await trainSeverityModel({ name: 't', X, y, featureNames: X[0]!.map((_, i) => `f${i}`), forest: { nTrees: 5, workers: 1 }, seed: 1 });
    const seen = seenPatientsOf(['physionet-p1', 'p102001', 'p102001', 'mimic-7']);
    expect(seen.count).toBe(3);
    expect(sawPatient(seen, 'p102001')).toBe(true);
    expect(sawPatient(seen, 'p100001')).toBe(false);
    expect(sawPatient(undefined, 'p102001')).toBe(false);
    const more = withArtifactFields(artifact, {
      provenance: { source: 'physionet', description: 'test', file: 'x.parquet', sha256: 'ab'.repeat(32), patients: 3, rows: 600, split: null },
      label: { name: 'SepsisLabel', description: 'sepsis within 6 h', horizonHours: 6 },
      alarm: { threshold: 0.2, rule: 'best utility', validationUtility: 0.31 },
      seenPatients: seen,
    });
    expect(more.contentHash).not.toBe(artifact.contentHash);
    expect(validateArtifact(JSON.parse(JSON.stringify(more))).contentHash).toBe(more.contentHash);
    const card = modelCard(more);
    expect(card).toMatchObject({ data: { source: 'physionet', patients: 3 }, label: { name: 'SepsisLabel', horizonHours: 6 }, alarm: { threshold: 0.2 } });
    expect(modelCard(artifact).data.source).toBe('unknown');
  });

  it('a subset records its draw (provenance.subset, optional): checked when present, absent in older artifacts', async () => {
    const { X, y } = nonlinearProblem(300, 2);
    const { artifact } = await trainSeverityModel({ name: 't', X, y, featureNames: X[0]!.map((_, i) => `f${i}`), forest: { nTrees: 3, workers: 1 }, seed: 1 });
    const split = { train: 0.6, validation: 0.2, test: 0.2 };
    const provenance = { source: 'physionet', description: 'test', file: 'x.parquet', sha256: 'ab'.repeat(32), patients: 3, rows: 300, split: { seed: 1, train: 1, validation: 1, test: 1 } };
    const subset = { stays: 3, seed: 5, fractions: split, referenceSeed: 1, referenceFractions: split, referenceSha256: 'ab'.repeat(32) };
    const withSubset = withArtifactFields(artifact, { provenance: { ...provenance, subset } });
    expect(validateArtifact(JSON.parse(JSON.stringify(withSubset))).provenance!.subset).toEqual(subset);
    expect(validateArtifact(JSON.parse(JSON.stringify(withArtifactFields(artifact, { provenance })))).provenance!.subset).toBeUndefined();
    const bad = JSON.parse(JSON.stringify(withSubset));
    bad.provenance.subset = { ...subset, stays: 0, referenceSha256: 'not a hash' };
    expect(() => validateArtifact(bad)).toThrow(/provenance\.subset\.stays: must be >= 1[\s\S]*provenance\.subset\.referenceSha256/);
  });
});
