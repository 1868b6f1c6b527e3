// Quantile binning. Cut points are real feature values; a value v falls in bin
// `#{edges e : e <= v}`, so "bin <= b" is exactly "v < edges[b]" — the comparison the flat
// forest and ml-cart use at inference. Because the bin index is computed by comparing with
// the stored edges themselves, training-time binning and inference-time thresholds agree
// bit for bit (no rounding gap between "the bin" and "the threshold").
import { MISSING_SENTINEL } from './missing.js';

/** Midpoint of a < b that is > a and <= b (so `a < m` fails and `b < m` fails: a left, b right). */
export function splitPoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return m > a && m <= b ? m : b;
}

/**
 * Cut points for at most `maxBins` bins over the sorted real values (no missing values).
 * When there are at most `maxBins` distinct values every distinct value gets its own bin
 * (cuts at the midpoints between neighbours, as scikit-learn's exact splitter would); else
 * bins hold about equal counts (greedy over distinct values; a heavy tie stays in one bin).
 */
export function quantileCuts(sorted: ArrayLike<number>, maxBins: number): number[] {
  const n = sorted.length;
  if (n === 0 || maxBins < 2) return [];
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    if (distinct.length > 0 && distinct[distinct.length - 1] === v) counts[counts.length - 1]!++;
    else {
      distinct.push(v);
      counts.push(1);
    }
  }
  const cuts: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 1; i < distinct.length; i++) cuts.push(splitPoint(distinct[i - 1]!, distinct[i]!));
    return cuts;
  }
  let remaining = n;
  let binsLeft = maxBins;
  let inBin = 0;
  for (let i = 0; i < distinct.length - 1; i++) {
    inBin += counts[i]!;
    const target = remaining / binsLeft;
    // Close the bin after this value when that lands nearer the target count than also
    // taking the next distinct value would.
    if (binsLeft > 1 && 2 * inBin + counts[i + 1]! >= 2 * target) {
      cuts.push(splitPoint(distinct[i]!, distinct[i + 1]!));
      remaining -= inBin;
      binsLeft--;
      inBin = 0;
    }
  }
  return cuts;
}

/** Number of edges <= v (upper-bound binary search). */
export function binOf(edges: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface BinnedMatrix {
  rows: number;
  cols: number;
  /** Column-major bin indices: bins[f * rows + i]. Bin 0 holds missing values (and only them). */
  bins: Uint8Array;
  /** Per feature: edges[0] = smallest real training value, then midpoint cuts. Threshold of "bin <= b" is edges[b]. */
  edges: Float64Array[];
  /** Per feature: number of bins in use (edges.length + 1). */
  nBins: Int32Array;
}

/**
 * Bins feature `f` of a column-major matrix (missing already MISSING_SENTINEL) into `bins`
 * (same layout): bin 0 for missing, then at most `maxBins` real-value bins (≤ 256 values,
 * Uint8). Returns the feature's edges, its sorted real values and its missing count.
 */
export function binFeature(
  columns: Float64Array,
  rows: number,
  f: number,
  maxBins: number,
  bins: Uint8Array,
): { edges: Float64Array; sorted: Float64Array; missing: number } {
  if (maxBins < 2 || maxBins > 255) throw new RangeError(`maxBins must be in [2, 255], got ${maxBins}`);
  const off = f * rows;
  const real = new Float64Array(rows);
  let m = 0;
  for (let i = 0; i < rows; i++) {
    const v = columns[off + i]!;
    if (v > MISSING_SENTINEL) real[m++] = v;
  }
  const sorted = real.subarray(0, m).sort();
  const edges = m === 0 ? new Float64Array(0) : Float64Array.from([sorted[0]!, ...quantileCuts(sorted, maxBins)]);
  for (let i = 0; i < rows; i++) bins[off + i] = binOf(edges, columns[off + i]!);
  return { edges, sorted, missing: rows - m };
}

/** Bins every feature (see binFeature); `onSorted` sees each feature's sorted real values. */
export function binColumns(
  columns: Float64Array,
  rows: number,
  cols: number,
  maxBins: number,
  onSorted?: (feature: number, sortedReal: Float64Array, missing: number) => void,
): BinnedMatrix {
  const bins = new Uint8Array(rows * cols);
  const edges: Float64Array[] = [];
  const nBins = new Int32Array(cols);
  for (let f = 0; f < cols; f++) {
    const r = binFeature(columns, rows, f, maxBins, bins);
    onSorted?.(f, r.sorted, r.missing);
    edges.push(r.edges);
    nBins[f] = r.edges.length + 1;
  }
  return { rows, cols, bins, edges, nBins };
}
