// The flat forest: all trees' nodes in shared typed arrays, plus fast inference and
// Saabas (tree-path) feature contributions.
//
// Semantics (identical to ml-cart): at an internal node go LEFT iff
// `value < threshold[node]`, else right. Missing values (null/undefined/NaN) are replaced
// by MISSING_SENTINEL first, which is below every threshold, so they always go left.
// `value[node]` is the positive-class probability of the node's class-weighted training
// distribution (for a leaf: what scikit-learn's predict_proba averages).
import { MISSING_SENTINEL } from './missing.js';

export interface FlatForest {
  nTrees: number;
  nFeatures: number;
  /** Index of each tree's root node. */
  roots: Int32Array;
  /** Split feature per node, -1 for a leaf. */
  feature: Int32Array;
  /** Split threshold (a real feature value) per node; 0 for leaves. */
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Positive-class probability per node (internal nodes too: used by contributions). */
  value: Float64Array;
  /** Distinct training rows that reached each node. */
  samples: Int32Array;
}

export type Row = Float64Array | ArrayLike<number | null | undefined>;

export interface Contribution {
  feature: number;
  name?: string;
  /** The feature's value in the row (null when missing). */
  value: number | null;
  contribution: number;
}

export interface Explanation {
  /** Mean root value over trees: the forest's prior positive rate. */
  bias: number;
  /** Raw forest probability = bias + sum of all contributions. */
  prediction: number;
  /** Every feature's contribution (index = feature). */
  all: Float64Array;
  /** The top-k features by |contribution|, largest first. */
  top: Contribution[];
}

/**
 * A forest laid out for prediction: one 16-byte record per node (threshold or leaf value
 * as float64, then feature and right child as int32), left child = next record. Built from
 * a FlatForest whose trees are in pre-order; other layouts fall back to the plain arrays.
 */
export class ForestPredictor {
  readonly forest: FlatForest;
  private readonly packed: boolean;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private readonly scratch: Float64Array;
  private block: Float64Array | undefined;
  private static readonly BLOCK = 256;

  constructor(forest: FlatForest) {
    this.forest = forest;
    const n = forest.feature.length;
    let preorder = true;
    for (let i = 0; i < n; i++) {
      if (forest.feature[i]! >= 0 && forest.left[i] !== i + 1) {
        preorder = false;
        break;
      }
    }
    this.packed = preorder;
    const buf = new ArrayBuffer(preorder ? n * 16 : 0);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
    if (preorder) {
      for (let i = 0; i < n; i++) {
        const leaf = forest.feature[i]! < 0;
        this.f64[2 * i] = leaf ? forest.value[i]! : forest.threshold[i]!;
        this.i32[4 * i + 2] = forest.feature[i]!;
        this.i32[4 * i + 3] = forest.right[i]!;
      }
    }
    this.scratch = new Float64Array(forest.nFeatures);
  }

  /** Copies a row into scratch with missing → sentinel. */
  private prepare(row: Row): Float64Array {
    const nF = this.forest.nFeatures;
    if (row.length !== nF) throw new RangeError(`row has ${row.length} values, the model expects ${nF}`);
    const x = this.scratch;
    for (let f = 0; f < nF; f++) {
      const v = row[f];
      x[f] = v === null || v === undefined || !(v > MISSING_SENTINEL) ? MISSING_SENTINEL : v;
    }
    return x;
  }

  /** Mean positive-class probability over trees for a prepared row. */
  private predictPrepared(x: Float64Array): number {
    const { roots, nTrees } = this.forest;
    let sum = 0;
    if (this.packed) {
      const f64 = this.f64;
      const i32 = this.i32;
      for (let t = 0; t < nTrees; t++) {
        let node = roots[t]!;
        let f = i32[4 * node + 2]!;
        while (f >= 0) {
          node = x[f]! < f64[2 * node]! ? node + 1 : i32[4 * node + 3]!;
          f = i32[4 * node + 2]!;
        }
        sum += f64[2 * node]!;
      }
    } else {
      const { feature, threshold, left, right, value } = this.forest;
      for (let t = 0; t < nTrees; t++) {
        let node = roots[t]!;
        while (feature[node]! >= 0) node = x[feature[node]!]! < threshold[node]! ? left[node]! : right[node]!;
        sum += value[node]!;
      }
    }
    return sum / nTrees;
  }

  /** Raw forest probability of the positive class. */
  predictProba(row: Row): number {
    return this.predictPrepared(this.prepare(row));
  }

  /**
   * Batch prediction. `rows` is either an array of rows or a row-major Float64Array of
   * `rows.length / nFeatures` rows (NaN = missing). Rows are scored in blocks, tree by tree,
   * so each tree stays in cache for the whole block; results are bit-identical to
   * predictProba (trees are summed in the same order).
   */
  predictProbaBatch(rows: Float64Array | readonly Row[], out?: Float64Array): Float64Array {
    const nF = this.forest.nFeatures;
    let n: number;
    let rowAt: (i: number) => Row;
    if (rows instanceof Float64Array) {
      if (rows.length % nF !== 0) throw new RangeError(`matrix length ${rows.length} is not a multiple of ${nF} features`);
      n = rows.length / nF;
      rowAt = (i) => rows.subarray(i * nF, (i + 1) * nF);
    } else {
      n = rows.length;
      rowAt = (i) => rows[i]!;
    }
    const res = out ?? new Float64Array(n);
    if (res.length < n) throw new RangeError(`output has room for ${res.length} rows, ${n} given`);
    if (!this.packed) {
      for (let i = 0; i < n; i++) res[i] = this.predictPrepared(this.prepare(rowAt(i)));
      return res;
    }
    const BLOCK = ForestPredictor.BLOCK;
    const block = (this.block ??= new Float64Array(BLOCK * nF));
    const sums = new Float64Array(BLOCK);
    const { roots, nTrees } = this.forest;
    const f64 = this.f64;
    const i32 = this.i32;
    for (let s = 0; s < n; s += BLOCK) {
      const m = Math.min(BLOCK, n - s);
      for (let i = 0; i < m; i++) block.set(this.prepare(rowAt(s + i)), i * nF);
      sums.fill(0);
      for (let t = 0; t < nTrees; t++) {
        const root = roots[t]!;
        for (let i = 0; i < m; i++) {
          const base = i * nF;
          let node = root;
          let f = i32[4 * node + 2]!;
          while (f >= 0) {
            node = block[base + f]! < f64[2 * node]! ? node + 1 : i32[4 * node + 3]!;
            f = i32[4 * node + 2]!;
          }
          sums[i] = sums[i]! + f64[2 * node]!;
        }
      }
      for (let i = 0; i < m; i++) res[s + i] = sums[i]! / nTrees;
    }
    return res;
  }

  /** Vote-free per-tree leaf values (for checks and exports). */
  treeValues(row: Row): Float64Array {
    const x = this.prepare(row);
    const { roots, nTrees, feature, threshold, left, right, value } = this.forest;
    const out = new Float64Array(nTrees);
    for (let t = 0; t < nTrees; t++) {
      let node = roots[t]!;
      while (feature[node]! >= 0) node = x[feature[node]!]! < threshold[node]! ? left[node]! : right[node]!;
      out[t] = value[node]!;
    }
    return out;
  }

  /**
   * Saabas tree-path attribution: along each tree's path, the change in the node's
   * positive-class probability (child − parent) is credited to the parent's split feature;
   * averaged over trees. bias = mean root value; bias + Σ contributions = the raw
   * probability (up to float rounding).
   */
  explain(row: Row, topK = 5, names?: readonly string[]): Explanation {
    const x = this.prepare(row);
    const { roots, nTrees, nFeatures, feature, threshold, left, right, value } = this.forest;
    const all = new Float64Array(nFeatures);
    let bias = 0;
    let pred = 0;
    for (let t = 0; t < nTrees; t++) {
      let node = roots[t]!;
      bias += value[node]!;
      while (feature[node]! >= 0) {
        const f = feature[node]!;
        const next = x[f]! < threshold[node]! ? left[node]! : right[node]!;
        all[f] = all[f]! + value[next]! - value[node]!;
        node = next;
      }
      pred += value[node]!;
    }
    for (let f = 0; f < nFeatures; f++) all[f] = all[f]! / nTrees;
    const order = Array.from({ length: nFeatures }, (_, f) => f)
      .filter((f) => all[f] !== 0)
      .sort((a, b) => Math.abs(all[b]!) - Math.abs(all[a]!) || a - b);
    const top = order.slice(0, Math.max(0, topK)).map((f) => {
      const c: Contribution = { feature: f, value: x[f] === MISSING_SENTINEL ? null : x[f]!, contribution: all[f]! };
      if (names) c.name = names[f]!;
      return c;
    });
    return { bias: bias / nTrees, prediction: pred / nTrees, all, top };
  }
}

/** Concatenates trees into one flat forest (child indices made absolute). */
export function concatTrees(
  nFeatures: number,
  trees: readonly {
    feature: Int32Array;
    threshold: Float64Array;
    left: Int32Array;
    right: Int32Array;
    value: Float64Array;
    samples: Int32Array;
  }[],
): FlatForest {
  let total = 0;
  for (const t of trees) total += t.feature.length;
  const forest: FlatForest = {
    nTrees: trees.length,
    nFeatures,
    roots: new Int32Array(trees.length),
    feature: new Int32Array(total),
    threshold: new Float64Array(total),
    left: new Int32Array(total),
    right: new Int32Array(total),
    value: new Float64Array(total),
    samples: new Int32Array(total),
  };
  let off = 0;
  trees.forEach((t, i) => {
    forest.roots[i] = off;
    const n = t.feature.length;
    forest.feature.set(t.feature, off);
    forest.threshold.set(t.threshold, off);
    forest.value.set(t.value, off);
    forest.samples.set(t.samples, off);
    for (let k = 0; k < n; k++) {
      const leaf = t.feature[k]! < 0;
      forest.left[off + k] = leaf ? -1 : t.left[k]! + off;
      forest.right[off + k] = leaf ? -1 : t.right[k]! + off;
    }
    off += n;
  });
  return forest;
}

/** The first `k` trees of a forest. Tree t depends only on (seed, t), so this equals training k trees. */
export function firstTrees(forest: FlatForest, k: number): FlatForest {
  if (!Number.isInteger(k) || k < 1 || k > forest.nTrees) throw new RangeError(`k must be in 1..${forest.nTrees}, got ${k}`);
  const end = k < forest.nTrees ? forest.roots[k]! : forest.feature.length;
  return {
    nTrees: k,
    nFeatures: forest.nFeatures,
    roots: forest.roots.slice(0, k),
    feature: forest.feature.slice(0, end),
    threshold: forest.threshold.slice(0, end),
    left: forest.left.slice(0, end),
    right: forest.right.slice(0, end),
    value: forest.value.slice(0, end),
    samples: forest.samples.slice(0, end),
  };
}
