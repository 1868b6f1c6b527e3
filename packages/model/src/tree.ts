// One CART classification tree (binary labels, gini) grown on the shared bin matrix.
// Runs both on the calling thread and inside worker threads: it depends only on typed
// arrays and a seeded Random, so a tree is a pure function of (data, params, seed, index).
import { createRandom, type Random } from '@ehr/features';

export interface TreeParams {
  maxDepth: number;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  /** Features drawn (without replacement) per split, as an absolute count >= 1. */
  maxFeatures: number;
  /** Weight of class 0 and class 1 (1, 1 unless class weights are used). */
  classWeight: [number, number];
  /** Bootstrap (draws with replacement) or train every tree on all rows. */
  bootstrap: boolean;
  /** Number of bootstrap draws per tree. */
  samplesPerTree: number;
  /**
   * Balanced bootstrap (Chen, Liaw & Breiman 2004): each tree draws every class separately,
   * with replacement, as many positives as there are and this many negatives per positive
   * (null: the plain bootstrap of samplesPerTree draws).
   */
  balancedBootstrap?: number | null;
  /**
   * With balancedBootstrap: draws per tree (positives and negatives 1 : balancedBootstrap)
   * instead of every positive and balancedBootstrap negatives per positive. Null: the latter.
   */
  balancedDraws?: number | null;
}

export interface BinnedData {
  rows: number;
  cols: number;
  /** Column-major bin matrix. */
  bins: Uint8Array;
  /** Bins in use per feature. */
  nBins: Int32Array;
  /** Labels 0/1. */
  y: Uint8Array;
  /** Per-row sampling weights (bootstrap draws ∝ weight, within each class when balanced); absent = equal. */
  weight?: Float64Array | null;
}

/** A grown tree in pre-order (the left child of an internal node i is i + 1). */
export interface RawTree {
  /** Split feature, -1 for a leaf. */
  feature: Int32Array;
  /** Split bin b: rows with bin <= b go left (threshold = edges[feature][b]). */
  bin: Int32Array;
  left: Int32Array;
  right: Int32Array;
  /** Positive-class probability of the node's (class-weighted) training distribution. */
  value: Float64Array;
  /** Distinct training rows that reached the node (scikit-learn's n_node_samples). */
  samples: Int32Array;
  /** Unnormalised mean decrease in impurity per feature (weighted, as scikit-learn). */
  importance: Float64Array;
}

/**
 * Per-row histogram payload, packed into one float64 so a single add updates every field
 * (all fields are integers and sums stay below 2^53, so they are exact):
 * - compact mode (rows and draws < 2^17): count·2^34 + pos·2^17 + neg, where count is 1
 *   (distinct rows, for minSamplesLeaf) and pos/neg are the row's bootstrap draws by label;
 * - wide mode: pos·2^26 + neg, with the distinct-row count kept in a second histogram lane.
 */
const COMPACT_LIMIT = 131072; // 2^17
const C_POS = 131072; // 2^17
const C_CNT = 17179869184; // 2^34
const W_POS = 67108864; // 2^26
export const MAX_ROWS = W_POS - 1;

/** The RNG of tree `t`: derived from the seed and the tree index only (so workers don't matter). */
export function treeRandom(seed: number, t: number): Random {
  return createRandom(seed >>> 0).fork(`tree:${t}`);
}

// The hot loops live in small functions: V8 optimises (and re-optimises) small monomorphic
// functions much sooner than one large one, which matters for the first trees in a worker.

/** Adds rows [start, end) of one feature column to hist (payload lane); compact mode. */
function histCompact(bins: Uint8Array, off: number, idx: Uint32Array, pk: Float64Array, start: number, end: number, sub: Float64Array, hist: Float64Array, nb: number): void {
  // Four interleaved sub-histograms: consecutive rows in the same bin (flags, small counts)
  // no longer wait on each other's read-modify-write.
  const end4 = start + (((end - start) >> 2) << 2);
  let k = start;
  for (; k < end4; k += 4) {
    const b0 = bins[off + idx[k]!]!;
    const b1 = bins[off + idx[k + 1]!]! + 256;
    const b2 = bins[off + idx[k + 2]!]! + 512;
    const b3 = bins[off + idx[k + 3]!]! + 768;
    sub[b0] = sub[b0]! + pk[k]!;
    sub[b1] = sub[b1]! + pk[k + 1]!;
    sub[b2] = sub[b2]! + pk[k + 2]!;
    sub[b3] = sub[b3]! + pk[k + 3]!;
  }
  for (; k < end; k++) {
    const b = bins[off + idx[k]!]!;
    sub[b] = sub[b]! + pk[k]!;
  }
  for (let b = 0; b < nb; b++) {
    hist[2 * b] = sub[b]! + sub[b + 256]! + sub[b + 512]! + sub[b + 768]!;
    sub[b] = 0;
    sub[b + 256] = 0;
    sub[b + 512] = 0;
    sub[b + 768] = 0;
  }
}

/** Adds rows to both lanes (payload, distinct rows); wide mode. */
function histWide(bins: Uint8Array, off: number, idx: Uint32Array, pk: Float64Array, start: number, end: number, hist: Float64Array): void {
  for (let k = start; k < end; k++) {
    const b = bins[off + idx[k]!]! << 1;
    hist[b] = hist[b]! + pk[k]!;
    hist[b + 1] = hist[b + 1]! + 1;
  }
}

/** Small node: fills both lanes and returns lo * 256 + hi, the occupied bin range. */
function histSmall(bins: Uint8Array, off: number, idx: Uint32Array, pk: Float64Array, start: number, end: number, hist: Float64Array): number {
  let lo = 255;
  let hi = 0;
  for (let k = start; k < end; k++) {
    const b = bins[off + idx[k]!]!;
    hist[2 * b] = hist[2 * b]! + pk[k]!;
    hist[2 * b + 1] = hist[2 * b + 1]! + 1;
    if (b < lo) lo = b;
    if (b > hi) hi = b;
  }
  return lo * 256 + hi;
}

/** Stable partition of [start, end): rows with bin <= splitBin first. Returns the boundary. */
function partition(bins: Uint8Array, off: number, splitBin: number, idx: Uint32Array, pk: Float64Array, start: number, end: number, tmpIdx: Uint32Array, tmpPk: Float64Array): number {
  let i = start;
  let nRight = 0;
  for (let k = start; k < end; k++) {
    const row = idx[k]!;
    if (bins[off + row]! <= splitBin) {
      idx[i] = row;
      pk[i] = pk[k]!;
      i++;
    } else {
      tmpIdx[nRight] = row;
      tmpPk[nRight] = pk[k]!;
      nRight++;
    }
  }
  for (let k = 0; k < nRight; k++) {
    idx[i + k] = tmpIdx[k]!;
    pk[i + k] = tmpPk[k]!;
  }
  return i;
}

interface SplitScan {
  /** Best proxy so far: Σ_children (wpos² + wneg²) / w; higher is better. */
  proxy: number;
  bin: number;
  leftTot: number;
}

/**
 * Scans bins lo..hi-1 of a filled histogram for the best valid split; updates `best` and
 * returns true when this feature improved it. Clears the histogram range.
 */
function scanSplit(
  hist: Float64Array, lo: number, hi: number, compact: boolean, POS: number, CNT: number,
  count: number, minLeaf: number, cw0: number, cw1: number, wPos: number, wNeg: number, best: SplitScan,
): boolean {
  let improved = false;
  let lTot = 0;
  let lCount = 0;
  for (let b = lo; b < hi; b++) {
    const h = hist[2 * b]!;
    if (h === 0) continue; // empty bin: same split as the previous bin
    lTot += h;
    let lc: number;
    if (compact) {
      lCount = Math.floor(lTot / CNT);
      lc = lTot - lCount * CNT;
    } else {
      lCount += hist[2 * b + 1]!;
      lc = lTot;
    }
    if (lCount < minLeaf) continue;
    if (count - lCount < minLeaf) break;
    const lp = Math.floor(lc / POS);
    const lwp = cw1 * lp;
    const lwn = cw0 * (lc - lp * POS);
    const rwp = wPos - lwp;
    const rwn = wNeg - lwn;
    const lw = lwp + lwn;
    const rw = rwp + rwn;
    if (lw <= 0 || rw <= 0) continue;
    const proxy = (lwp * lwp + lwn * lwn) / lw + (rwp * rwp + rwn * rwn) / rw;
    if (proxy > best.proxy) {
      best.proxy = proxy;
      best.bin = b;
      best.leftTot = lTot;
      improved = true;
    }
  }
  for (let b = lo; b <= hi; b++) {
    hist[2 * b] = 0;
    hist[2 * b + 1] = 0;
  }
  return improved;
}

/** Maps a uniform u in [0, 1) to a row of `pool`, with probability ∝ its weight (cumulative sums, binary search). */
function weightedPicker(pool: Uint32Array, weight: Float64Array): (u: number) => number {
  const cum = new Float64Array(pool.length);
  let total = 0;
  for (let k = 0; k < pool.length; k++) {
    total += weight[pool[k]!]!;
    cum[k] = total;
  }
  if (!(total > 0)) throw new RangeError('sample weights: a class has no row with positive weight');
  return (u) => {
    const target = u * total;
    let lo = 0;
    let hi = pool.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return pool[lo]!;
  };
}

export function growTree(data: BinnedData, params: TreeParams, seed: number, t: number): RawTree {
  const rng = treeRandom(seed, t);
  const { rows: n, cols: nF, bins, nBins, y } = data;
  const cw0 = params.classWeight[0];
  const cw1 = params.classWeight[1];
  const minLeaf = Math.max(1, params.minSamplesLeaf);
  const minSplit = Math.max(2, params.minSamplesSplit, 2 * minLeaf);
  const mtry = Math.max(1, Math.min(nF, params.maxFeatures));
  const balanced = params.bootstrap && params.balancedBootstrap ? params.balancedBootstrap : null;
  let positives: Uint32Array | null = null;
  let negatives: Uint32Array | null = null;
  if (balanced !== null) {
    let np = 0;
    for (let i = 0; i < n; i++) np += y[i] === 1 ? 1 : 0;
    positives = new Uint32Array(np);
    negatives = new Uint32Array(n - np);
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      if (y[i] === 1) positives[a++] = i;
      else negatives[b++] = i;
    }
  }
  let positiveDraws = positives ? positives.length : 0;
  if (positives && params.balancedDraws) positiveDraws = Math.max(1, Math.round(params.balancedDraws / (1 + balanced!)));
  const negativeDraws = positives && negatives ? Math.min(negatives.length, Math.max(1, Math.round(positiveDraws * balanced!))) : 0;
  const draws = !params.bootstrap ? n : positives ? positiveDraws + negativeDraws : params.samplesPerTree;
  // Per-node sums are bounded by the draws (distinct rows ≤ draws), so a subsampled tree
  // packs compactly whatever the size of the data.
  const compact = draws < COMPACT_LIMIT;
  const POS = compact ? C_POS : W_POS;
  const CNT = compact ? C_CNT : 0;

  // Bootstrap counts → the distinct rows in the sample (ascending) and their payloads.
  let idx: Uint32Array;
  let pk: Float64Array;
  if (params.bootstrap) {
    const counts = new Uint32Array(n);
    const all = !positives && data.weight ? Uint32Array.from({ length: n }, (_, i) => i) : null;
    const drawFrom = (pool: Uint32Array, k: number) => {
      const pick = data.weight ? weightedPicker(pool, data.weight) : (u: number) => pool[Math.floor(u * pool.length)]!;
      for (let d = 0; d < k; d++) counts[pick(rng.next())]!++;
    };
    if (positives && negatives) {
      drawFrom(positives, positiveDraws);
      drawFrom(negatives, negativeDraws);
    } else if (data.weight) drawFrom(all!, draws);
    else for (let d = 0; d < draws; d++) counts[Math.floor(rng.next() * n)]!++;
    let m = 0;
    for (let i = 0; i < n; i++) if (counts[i]! > 0) m++;
    idx = new Uint32Array(m);
    pk = new Float64Array(m);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i]!;
      if (c > 0) {
        idx[k] = i;
        pk[k] = CNT + (y[i] === 1 ? c * POS : c);
        k++;
      }
    }
  } else {
    idx = new Uint32Array(n);
    pk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      idx[i] = i;
      pk[i] = CNT + (y[i] === 1 ? POS : 1);
    }
  }
  const m = idx.length;
  const tmpIdx = new Uint32Array(m);
  const tmpPk = new Float64Array(m);

  // Node capacity: every leaf holds >= minLeaf rows; depth bounds it too.
  const byLeaves = 2 * Math.ceil(m / minLeaf) + 1;
  const byDepth = params.maxDepth >= 30 ? Infinity : 2 ** (params.maxDepth + 1) - 1;
  const cap = Math.max(1, Math.min(byLeaves, byDepth));
  const feature = new Int32Array(cap);
  const bin = new Int32Array(cap);
  const left = new Int32Array(cap);
  const right = new Int32Array(cap);
  const value = new Float64Array(cap);
  const samples = new Int32Array(cap);
  const importance = new Float64Array(nF);

  // Histogram lanes per bin: [payload sum, distinct rows (wide mode and small nodes)].
  const hist = new Float64Array(2 * 256);
  const sub = new Float64Array(4 * 256);
  const perm = new Int32Array(nF);
  for (let f = 0; f < nF; f++) perm[f] = f;
  const best: SplitScan = { proxy: -Infinity, bin: -1, leftTot: 0 };

  // Pending nodes (pre-order: push right, then left). Each carries its payload sum, known
  // from the parent's split.
  let rootTot = 0;
  for (let k = 0; k < m; k++) rootTot += pk[k]!;
  const stStart: number[] = [0];
  const stEnd: number[] = [m];
  const stDepth: number[] = [0];
  const stParent: number[] = [-1];
  const stTot: number[] = [rootTot];
  let nNodes = 0;

  while (stStart.length > 0) {
    const start = stStart.pop()!;
    const end = stEnd.pop()!;
    const depth = stDepth.pop()!;
    const parent = stParent.pop()!;
    const tot = stTot.pop()!;
    const id = nNodes++;
    if (parent >= 0) {
      if (id === parent + 1) left[parent] = id;
      else right[parent] = id;
    }

    const count = end - start;
    const labelled = compact ? tot - Math.floor(tot / CNT) * CNT : tot; // strip the count field
    const pos = Math.floor(labelled / POS);
    const neg = labelled - pos * POS;
    const wPos = cw1 * pos;
    const wNeg = cw0 * neg;
    const W = wPos + wNeg;
    value[id] = W > 0 ? wPos / W : 0;
    samples[id] = count;
    feature[id] = -1;
    bin[id] = -1;
    left[id] = -1;
    right[id] = -1;

    if (depth >= params.maxDepth || count < minSplit || wPos === 0 || wNeg === 0) continue;

    // Split search over features drawn per split, as scikit-learn's BestSplitter: draw
    // features without replacement; every drawn feature counts towards maxFeatures, constant
    // ones included, except that drawing goes on while every feature drawn so far was
    // constant in this node.
    const parentProxy = (wPos * wPos + wNeg * wNeg) / W;
    best.proxy = -Infinity;
    best.bin = -1;
    best.leftTot = 0;
    let bestF = -1;
    let visited = 0;
    let nonConstant = 0;
    while (visited < nF && (visited < mtry || nonConstant === 0)) {
      const j = visited + Math.floor(rng.next() * (nF - visited));
      const f = perm[j]!;
      perm[j] = perm[visited]!;
      perm[visited] = f;
      visited++;
      const nb = nBins[f]!;
      if (nb <= 1) continue;

      const off = f * n;
      let lo: number;
      let hi: number;
      if (count < 128) {
        const range = histSmall(bins, off, idx, pk, start, end, hist);
        lo = range >> 8;
        hi = range & 255;
      } else {
        if (compact) histCompact(bins, off, idx, pk, start, end, sub, hist, nb);
        else histWide(bins, off, idx, pk, start, end, hist);
        lo = 0;
        while (lo < nb && hist[2 * lo] === 0) lo++;
        hi = nb - 1;
        while (hi > lo && hist[2 * hi] === 0) hi--;
      }
      if (lo === hi) {
        hist[2 * lo] = 0;
        hist[2 * lo + 1] = 0;
        continue;
      }
      nonConstant++;
      if (scanSplit(hist, lo, hi, compact, POS, CNT, count, minLeaf, cw0, cw1, wPos, wNeg, best)) bestF = f;
    }
    if (bestF < 0) continue;
    const mid = partition(bins, bestF * n, best.bin, idx, pk, start, end, tmpIdx, tmpPk);
    feature[id] = bestF;
    bin[id] = best.bin;
    // Weighted impurity decrease: W·gini(node) − WL·gini(L) − WR·gini(R) = proxy − parentProxy.
    importance[bestF] = importance[bestF]! + best.proxy - parentProxy;

    stStart.push(mid, start);
    stEnd.push(end, mid);
    stDepth.push(depth + 1, depth + 1);
    stParent.push(id, id);
    stTot.push(tot - best.leftTot, best.leftTot);
  }

  return {
    feature: feature.slice(0, nNodes),
    bin: bin.slice(0, nNodes),
    left: left.slice(0, nNodes),
    right: right.slice(0, nNodes),
    value: value.slice(0, nNodes),
    samples: samples.slice(0, nNodes),
    importance,
  };
}
