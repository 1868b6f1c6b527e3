// Shared pieces of training and evaluating on real hourly data (PhysioNet): rows of a
// Float32 matrix as the model's Float64 input, the NEWS2 and qSOFA columns, patient
// subgroups, predictions in chunks.
import { featureIndex, type PhysioNetDemographicsLike } from './real-data-types.js';
import type { SeverityModel } from '@ehr/model';
import type { Subgroup } from './clinical-evaluation.js';

/** Rows `index` (and columns `columns`, default all) of a row-major matrix, as Float64 (NaN = missing). */
export function denseRows(X: Float32Array | Float64Array, cols: number, index: ArrayLike<number>, columns?: readonly number[]): { rows: number; cols: number; data: Float64Array } {
  const take = columns ?? Array.from({ length: cols }, (_, j) => j);
  const out = new Float64Array(index.length * take.length);
  for (let k = 0; k < index.length; k++) {
    const base = index[k]! * cols;
    const o = k * take.length;
    for (let j = 0; j < take.length; j++) out[o + j] = X[base + take[j]!]!;
  }
  return { rows: index.length, cols: take.length, data: out };
}

export function column(X: Float32Array | Float64Array, cols: number, index: ArrayLike<number>, name: string): Float64Array {
  const c = featureIndex(name);
  return Float64Array.from({ length: index.length }, (_, k) => X[index[k]! * cols + c]!);
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

/** Calibrated probabilities of rows `index`, predicted in chunks (bounded memory). */
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

export const AGE_BANDS = [
  { label: '< 45', max: 45 },
  { label: '45–64', max: 65 },
  { label: '65–79', max: 80 },
  { label: '≥ 80', max: Infinity },
] as const;

export function ageBand(age: number | null): string {
  if (age === null || Number.isNaN(age)) return 'unknown';
  return AGE_BANDS.find((b) => age < b.max)!.label;
}

/** Sex, age band and ICU type of each patient. */
export function demographicSubgroups(demographics: readonly PhysioNetDemographicsLike[]): Subgroup[] {
  return [
    { name: 'sex', of: (p) => ({ F: 'female', M: 'male', U: 'unknown' })[demographics[p]!.gender] },
    { name: 'age', of: (p) => ageBand(demographics[p]!.age), order: AGE_BANDS.map((b) => b.label) },
    { name: 'ICU', of: (p) => (demographics[p]!.unit === 'ICU' ? 'not recorded' : demographics[p]!.unit), order: ['MICU', 'SICU', 'not recorded'] },
  ];
}
