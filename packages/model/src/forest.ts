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
 * A forest laid out for prediction. Each tree is re-laid in pre-order as 16-byte records
 * (threshold as float64, then feature and right child as int32; left child = next record).
 * A leaf is a record that loops to itself (threshold −∞, right = itself), so every tree can
 * be walked a fixed number of steps (its depth) without testing for leaves, and 8 trees are
 * walked in lockstep: their memory loads overlap instead of waiting on each other.
 * Leaves' values are summed in tree order, in the single-row and the batch paths alike, so
 * both give bit-identical results.
 */
export class ForestPredictor {
  readonly forest: FlatForest;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private readonly leafValue: Float64Array;
  /** Every record's node value (internal nodes too), for contributions. */
  private readonly nodeValue: Float64Array;
  private readonly roots: Int32Array;
  private readonly depth: Int32Array;
  /** Max depth of each group of 8 consecutive trees. */
  private readonly groupDepth: Int32Array;
  private readonly scratch: Float64Array;
  private block: Float64Array | undefined;
  private static readonly BLOCK = 256;

  constructor(forest: FlatForest) {
    this.forest = forest;
    const n = forest.feature.length;
    const T = forest.nTrees;
    const buf = new ArrayBuffer(n * 16);
    const f64 = (this.f64 = new Float64Array(buf));
    const i32 = (this.i32 = new Int32Array(buf));
    const leafValue = (this.leafValue = new Float64Array(n));
    const nodeValue = (this.nodeValue = new Float64Array(n));
    this.roots = new Int32Array(T);
    this.depth = new Int32Array(T);
    let next = 0;
    const stack: number[] = []; // (node, depth, parent record, isRight) quadruples
    for (let t = 0; t < T; t++) {
      this.roots[t] = next;
      let maxDepth = 0;
      stack.push(forest.roots[t]!, 0, -1, 0);
      while (stack.length > 0) {
        const isRight = stack.pop()!;
        const parent = stack.pop()!;
        const d = stack.pop()!;
        const node = stack.pop()!;
        if (next >= n) throw new RangeError('forest nodes are shared between paths or form a cycle');
        const id = next++;
        if (isRight) i32[4 * parent + 3] = id;
        nodeValue[id] = forest.value[node]!;
        const f = forest.feature[node]!;
        if (f < 0) {
          f64[2 * id] = -Infinity;
          i32[4 * id + 2] = 0;
          i32[4 * id + 3] = id;
          leafValue[id] = forest.value[node]!;
          if (d > maxDepth) maxDepth = d;
        } else {
          f64[2 * id] = forest.threshold[node]!;
          i32[4 * id + 2] = f;
          stack.push(forest.right[node]!, d + 1, id, 1, forest.left[node]!, d + 1, id, 0);
        }
      }
      this.depth[t] = maxDepth;
    }
    this.groupDepth = new Int32Array(Math.ceil(T / 8));
    for (let t = 0; t < T; t++) this.groupDepth[t >> 3] = Math.max(this.groupDepth[t >> 3]!, this.depth[t]!);
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

  /** sum + the leaf values of trees t..t+7 (in order) for the row at x[o..]. */
  private group8(x: Float64Array, o: number, t: number, sum: number): number {
    const f64 = this.f64;
    const i32 = this.i32;
    const r = this.roots;
    let a = r[t]!, b = r[t + 1]!, c = r[t + 2]!, d = r[t + 3]!;
    let e = r[t + 4]!, g = r[t + 5]!, h = r[t + 6]!, k = r[t + 7]!;
    for (let step = this.groupDepth[t >> 3]!; step > 0; step--) {
      a = x[o + i32[4 * a + 2]!]! < f64[2 * a]! ? a + 1 : i32[4 * a + 3]!;
      b = x[o + i32[4 * b + 2]!]! < f64[2 * b]! ? b + 1 : i32[4 * b + 3]!;
      c = x[o + i32[4 * c + 2]!]! < f64[2 * c]! ? c + 1 : i32[4 * c + 3]!;
      d = x[o + i32[4 * d + 2]!]! < f64[2 * d]! ? d + 1 : i32[4 * d + 3]!;
      e = x[o + i32[4 * e + 2]!]! < f64[2 * e]! ? e + 1 : i32[4 * e + 3]!;
      g = x[o + i32[4 * g + 2]!]! < f64[2 * g]! ? g + 1 : i32[4 * g + 3]!;
      h = x[o + i32[4 * h + 2]!]! < f64[2 * h]! ? h + 1 : i32[4 * h + 3]!;
      k = x[o + i32[4 * k + 2]!]! < f64[2 * k]! ? k + 1 : i32[4 * k + 3]!;
    }
    const lv = this.leafValue;
    sum += lv[a]!;
    sum += lv[b]!;
    sum += lv[c]!;
    sum += lv[d]!;
    sum += lv[e]!;
    sum += lv[g]!;
    sum += lv[h]!;
    sum += lv[k]!;
    return sum;
  }

  /** sum + the leaf value of tree t for the row at x[o..]. */
  private single(x: Float64Array, o: number, t: number, sum: number): number {
    const f64 = this.f64;
    const i32 = this.i32;
    let a = this.roots[t]!;
    for (let step = this.depth[t]!; step > 0; step--) a = x[o + i32[4 * a + 2]!]! < f64[2 * a]! ? a + 1 : i32[4 * a + 3]!;
    return sum + this.leafValue[a]!;
  }

  /** Mean positive-class probability over trees for a prepared row. */
  private predictPrepared(x: Float64Array): number {
    const T = this.forest.nTrees;
    const full = T & ~7;
    let sum = 0;
    for (let t = 0; t < full; t += 8) sum = this.group8(x, 0, t, sum);
    for (let t = full; t < T; t++) sum = this.single(x, 0, t, sum);
    return sum / T;
  }

  /** Raw forest probability of the positive class. */
  predictProba(row: Row): number {
    return this.predictPrepared(this.prepare(row));
  }

  /**
   * Batch prediction. `rows` is either an array of rows or a row-major Float64Array of
   * `rows.length / nFeatures` rows (NaN = missing). Rows are scored in blocks, 8 trees at a
   * time, so those trees stay in cache for the whole block; results are bit-identical to
   * predictProba.
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
    const BLOCK = ForestPredictor.BLOCK;
    const block = (this.block ??= new Float64Array(BLOCK * nF));
    const sums = new Float64Array(BLOCK);
    const T = this.forest.nTrees;
    const full = T & ~7;
    for (let s = 0; s < n; s += BLOCK) {
      const m = Math.min(BLOCK, n - s);
      for (let i = 0; i < m; i++) block.set(this.prepare(rowAt(s + i)), i * nF);
      sums.fill(0);
      for (let t = 0; t < full; t += 8) for (let i = 0; i < m; i++) sums[i] = this.group8(block, i * nF, t, sums[i]!);
      for (let t = full; t < T; t++) for (let i = 0; i < m; i++) sums[i] = this.single(block, i * nF, t, sums[i]!);
      for (let i = 0; i < m; i++) res[s + i] = sums[i]! / T;
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
  explain(row: Row, topK = 5, names?: readonly string[], into?: Float64Array): Explanation {
    const x = this.prepare(row);
    const { nTrees, nFeatures } = this.forest;
    const { f64, i32, nodeValue, leafValue, roots, depth } = this;
    // `into` (nFeatures long, overwritten): a caller that keeps only the top saves an array a call.
    const all = into ? into.fill(0) : new Float64Array(nFeatures);
    let bias = 0;
    let pred = 0;
    for (let t = 0; t < nTrees; t++) {
      let a = roots[t]!;
      bias += nodeValue[a]!;
      // A leaf loops to itself (feature 0, difference 0), so walking `depth` steps is exact.
      for (let step = depth[t]!; step > 0; step--) {
        const f = i32[4 * a + 2]!;
        const next = x[f]! < f64[2 * a]! ? a + 1 : i32[4 * a + 3]!;
        all[f] = all[f]! + (nodeValue[next]! - nodeValue[a]!);
        a = next;
      }
      pred += leafValue[a]!;
    }
    for (let f = 0; f < nFeatures; f++) all[f] = all[f]! / nTrees;
    const top = topContributors(all, topK).map((f) => {
      const c: Contribution = { feature: f, value: x[f] === MISSING_SENTINEL ? null : x[f]!, contribution: all[f]! };
      if (names) c.name = names[f]!;
      return c;
    });
    return { bias: bias / nTrees, prediction: pred / nTrees, all, top };
  }
}

/**
 * The `k` features of largest |contribution| (non-zero only), largest first, ties by index:
 * what sorting them all gives, by insertion into k places. Sorting all 211 per score was
 * scoring's largest cost but GC (issue 18's profile: 20-50 µs against 1 µs).
 */
export function topContributors(all: Float64Array, k: number): number[] {
  const top: number[] = [];
  if (k <= 0) return top;
  for (let f = 0; f < all.length; f++) {
    const c = all[f]!;
    if (c === 0) continue;
    const m = Math.abs(c);
    let i = top.length;
    if (i === k) {
      if (m <= Math.abs(all[top[k - 1]!]!)) continue; // a tie goes to the lower index, already in
      top.pop();
      i--;
    }
    while (i > 0 && Math.abs(all[top[i - 1]!]!) < m) i--;
    top.splice(i, 0, f);
  }
  return top;
}

/** Concatenates trees into one flat forest (child indices made absolute). */
export function concatTrees(
  nFeatures: number,
  trees: readonly Pick<FlatForest, 'feature' | 'threshold' | 'left' | 'right' | 'value' | 'samples'>[],
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
