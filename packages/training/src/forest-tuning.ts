// Features per split, depth, leaf size and the balanced bootstrap's ratio chosen by k-fold cross-validation
// on the training patients only: each candidate grows on k − 1 folds and is scored (hourly
// AUROC, pooled over the folds) on the held-out fold. Validation and test patients never
// take part, so the choice cannot leak into what is reported.
import { auroc, auprc, trainForest, ForestPredictor } from '@ehr/model';
import { denseRows } from './rows.js';
import { patientFolds } from './split.js';
import type { ForestSettings } from './fit.js';

export type ForestCandidate = Pick<ForestSettings, 'maxDepth' | 'minSamplesLeaf' | 'balancedBootstrap' | 'maxFeatures' | 'maxSamples'>;

/** A candidate in words, for progress lines and the report. */
export function describeCandidate(c: ForestCandidate): string {
  const parts = [`depth ${c.maxDepth ?? 'base'}`, `leaf ${c.minSamplesLeaf ?? 'base'}`, `balanced ${c.balancedBootstrap ?? 'off'}`];
  if (c.maxFeatures !== undefined) parts.push(`features/split ${c.maxFeatures}`);
  if (c.maxSamples !== undefined && c.maxSamples !== null) parts.push(`draws/tree ${c.maxSamples}`);
  return parts.join(', ');
}

/**
 * Depth 28 (round 1's CV found depth 12–28 within 0.003 at sqrt); what moved on validation in
 * round 2 was the number of features drawn per split (sqrt = 16 of 282 → 0.1 → 0.2), so the grid
 * spans that, with leaf size, depth and ratio around 0.2. About 15 sqrt-candidates' worth of
 * CPU (a 0.2 candidate costs about 3.5 sqrt ones).
 */
export const DEFAULT_TUNING_GRID: readonly ForestCandidate[] = [
  { maxDepth: 28, minSamplesLeaf: 10, balancedBootstrap: 3, maxFeatures: 'sqrt' },
  { maxDepth: 28, minSamplesLeaf: 10, balancedBootstrap: 3, maxFeatures: 0.1 },
  { maxDepth: 28, minSamplesLeaf: 10, balancedBootstrap: 3, maxFeatures: 0.2 },
  { maxDepth: 28, minSamplesLeaf: 20, balancedBootstrap: 3, maxFeatures: 0.2 },
  { maxDepth: 20, minSamplesLeaf: 10, balancedBootstrap: 3, maxFeatures: 0.2 },
  { maxDepth: 28, minSamplesLeaf: 10, balancedBootstrap: 2, maxFeatures: 0.2 },
];

export interface TuningRow {
  candidate: ForestCandidate;
  auroc: number;
  auprc: number;
  foldAuroc: number[];
}

export interface TuningResult {
  folds: number;
  trees: number;
  rows: TuningRow[];
  best: ForestCandidate;
}

export interface TuningInput {
  X: Float32Array | Float64Array;
  cols: number;
  y: ArrayLike<number>;
  patientOf: ArrayLike<number>;
  /** Rows to cross-validate on (the training patients' rows). */
  rows: ArrayLike<number>;
  nPatients: number;
  base: ForestSettings;
  grid?: readonly ForestCandidate[];
  folds?: number;
  /** Trees per candidate (fewer than the final forest: the ranking of candidates is what matters). */
  trees?: number;
  seed?: number;
  onCandidate?: (done: number, total: number, row: TuningRow) => void;
}

export async function tuneForest(input: TuningInput): Promise<TuningResult> {
  const k = input.folds ?? 3;
  const grid = input.grid ?? DEFAULT_TUNING_GRID;
  const trees = input.trees ?? 100;
  const seed = input.seed ?? 1;
  const rows = Array.from(input.rows);
  const fold = patientFolds(rows.map((i) => input.patientOf[i]!), rows.map((i) => input.y[i]!), input.nPatients, k, seed);
  const foldOf = rows.map((i) => fold[input.patientOf[i]!]!);
  const results: TuningRow[] = [];
  // A fold's matrices are copied when needed, not held for every fold at once (memory).
  const part = (f: number) => {
    const trainIdx = rows.filter((_, j) => foldOf[j] !== f);
    const testIdx = rows.filter((_, j) => foldOf[j] === f);
    return { train: denseRows(input.X, input.cols, trainIdx), trainY: trainIdx.map((i) => input.y[i]!), test: denseRows(input.X, input.cols, testIdx), testY: testIdx.map((i) => input.y[i]!) };
  };
  for (const candidate of grid) {
    const pooledY: number[] = [];
    const pooledP: number[] = [];
    const foldAuroc: number[] = [];
    for (let f = 0; f < k; f++) {
      const { train, trainY, test, testY } = part(f);
      const forest = await trainForest(train, trainY, { ...input.base, ...candidate, nTrees: trees, seed });
      const p = new ForestPredictor(forest.forest).predictProbaBatch(test.data);
      foldAuroc.push(Math.round(auroc(testY, p) * 10000) / 10000);
      for (let i = 0; i < testY.length; i++) {
        pooledY.push(testY[i]!);
        pooledP.push(p[i]!);
      }
    }
    // Pooled over folds: each fold's forest scores its own patients, as one set.
    const row = { candidate, auroc: Math.round(auroc(pooledY, pooledP) * 10000) / 10000, auprc: Math.round(auprc(pooledY, pooledP) * 10000) / 10000, foldAuroc };
    results.push(row);
    input.onCandidate?.(results.length, grid.length, row);
  }
  const best = results.reduce((a, b) => (b.auroc > a.auroc ? b : a)).candidate;
  return { folds: k, trees, rows: results, best };
}
