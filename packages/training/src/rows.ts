// Rows of a row-major feature matrix (Float32 hourly PhysioNet rows or Float64 event rows)
// as the model's Float64 input, single named columns (NEWS2, qSOFA), and the model's
// predictions on them: what every pipeline, training or evaluating, reads its rows with.
import { NEWS2_PART_FEATURES, type FeatureValues } from '@ehr/features';
import type { SeverityModel } from '@ehr/model';
import { featureIndex } from './real-data-types.js';

export interface DenseRows {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Rows `index` (and columns `columns`, default all) of a row-major matrix, as Float64 (NaN = missing). */
export function denseRows(X: Float32Array | Float64Array, cols: number, index: ArrayLike<number>, columns?: readonly number[]): DenseRows {
  const take = columns ?? Array.from({ length: cols }, (_, j) => j);
  const out = new Float64Array(index.length * take.length);
  for (let k = 0; k < index.length; k++) {
    const base = index[k]! * cols;
    const o = k * take.length;
    for (let j = 0; j < take.length; j++) out[o + j] = X[base + take[j]!]!;
  }
  return { rows: index.length, cols: take.length, data: out };
}

/** The labels of rows `index`. */
export function labelsOf(y: ArrayLike<number>, index: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: index.length }, (_, k) => y[index[k]!]!);
}

/** One named feature of rows `index`, e.g. `news2_total`. */
export function column(X: Float32Array | Float64Array, cols: number, index: ArrayLike<number>, name: string): Float64Array {
  const c = featureIndex(name);
  return Float64Array.from({ length: index.length }, (_, k) => X[index[k]! * cols + c]!);
}

/**
 * NEWS2 of rows `index` as a feature vector carries it (`news2_total` and the seven `news2_*`
 * parameter points; NaN read as null, not measured): what news2TierOf and the served band read.
 */
export function news2FeaturesOf(X: Float32Array | Float64Array, cols: number, index: ArrayLike<number>): (k: number) => FeatureValues {
  const names = ['news2_total', ...NEWS2_PART_FEATURES.map(([name]) => name)];
  const at = names.map((name) => featureIndex(name));
  return (k) => {
    const base = index[k]! * cols;
    const f: FeatureValues = {};
    names.forEach((name, j) => {
      const v = X[base + at[j]!]!;
      f[name] = Number.isNaN(v) ? null : v;
    });
    return f;
  };
}

/** The model's columns in the data's feature set; throws naming a feature the data lacks. */
export function modelColumns(model: SeverityModel, featureNames: readonly string[], featureSetVersion: string): number[] {
  const at = new Map(featureNames.map((n, i) => [n, i]));
  return model.featureNames.map((n) => {
    const k = at.get(n);
    if (k === undefined) throw new Error(`model ${model.name}@${model.version} needs feature '${n}', which feature set ${featureSetVersion} does not have`);
    return k;
  });
}

/** Calibrated (or `raw` forest) probabilities of rows `index`, predicted in chunks (bounded memory). */
export function predictRows(model: SeverityModel, X: Float32Array | Float64Array, cols: number, index: ArrayLike<number>, columns: readonly number[], raw = false): Float64Array {
  const out = new Float64Array(index.length);
  const CHUNK = 20_000;
  for (let s = 0; s < index.length; s += CHUNK) {
    const part = Array.from({ length: Math.min(CHUNK, index.length - s) }, (_, k) => index[s + k]!);
    const m = denseRows(X, cols, part, columns);
    out.set(raw ? model.predictRawProbaBatch(m.data) : model.predictProbaBatch(m.data), s);
  }
  return out;
}

/** 0, 1, …, n − 1: every row. */
export const allRows = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);
