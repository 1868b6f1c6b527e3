// Random Forest trainer: quantile bins computed once (Uint8, column-major), bootstrap per
// tree, features drawn per split, gini, trees grown in parallel on worker threads. Each
// tree's RNG comes from (seed, tree index) only, so the forest is identical for any number
// of workers.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { binColumns } from './binning.js';
import { featureDistribution, type FeatureDistribution } from './drift.js';
import { concatTrees, type FlatForest } from './forest.js';
import { toColumnMajor, type ColumnMatrix, type MatrixInput } from './matrix.js';
import { growTree, MAX_ROWS, type BinnedData, type RawTree, type TreeParams } from './tree.js';

export type MaxFeatures = 'sqrt' | 'log2' | 'all' | number;

export interface ForestOptions {
  /** Trees (default 100). */
  nTrees?: number;
  /** Maximum depth; the root is depth 0 (default 12; Infinity = unlimited). */
  maxDepth?: number;
  /**
   * Features drawn per split: 'sqrt' (default), 'log2', 'all', a fraction in (0, 1) of the
   * features, or an integer count >= 1. Rounded down, at least 1 (as scikit-learn).
   */
  maxFeatures?: MaxFeatures;
  /** Minimum distinct training rows in a leaf (default 1). */
  minSamplesLeaf?: number;
  /** Minimum distinct training rows to split a node (default 2). */
  minSamplesSplit?: number;
  /** 'balanced' = n / (2 · count(class)) as scikit-learn, or explicit [w0, w1]. Default none. */
  classWeight?: 'balanced' | [number, number] | null;
  /** Bootstrap rows per tree (default true). */
  bootstrap?: boolean;
  /**
   * Bootstrap draws per tree: a fraction in (0, 1) of the rows, or an integer count >= 2 (1 means all rows). Default: all rows.
   * With balancedBootstrap it sets the draws too (positives and negatives 1 : ratio) instead of every positive.
   */
  maxSamples?: number | null;
  /**
   * Per-row sampling weights (>= 0): the bootstrap draws a row with probability ∝ its weight
   * (within its class under balancedBootstrap), e.g. 1 / stay length so that every stay counts
   * once. Needs bootstrap. Default: equal.
   */
  sampleWeight?: ArrayLike<number> | null;
  /**
   * Balanced bootstrap: each tree draws all classes separately (as many positives as there
   * are, this many negatives per positive), for rare outcomes. Default null (plain bootstrap).
   */
  balancedBootstrap?: number | null;
  /** Real-value bins per feature, 2..255 (missing gets its own extra bin). Default 255. */
  maxBins?: number;
  /** Seed (uint32). Default 0. */
  seed?: number;
  /** Worker threads (default min(2, cores)). 1 (or 0) grows trees on the calling thread. */
  workers?: number;
  /** Called after each tree with (trees done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Override the worker script (default: dist/worker.js of this package). */
  workerUrl?: URL;
  /** Feature names (for the training distribution). */
  featureNames?: readonly string[];
}

/** The hyperparameters that define the forest (recorded in the artifact). */
export interface ForestHyperparameters {
  nTrees: number;
  maxDepth: number;
  maxFeatures: MaxFeatures;
  maxFeaturesResolved: number;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  classWeight: 'balanced' | [number, number] | null;
  classWeightResolved: [number, number];
  bootstrap: boolean;
  maxSamples: number | null;
  samplesPerTree: number;
  balancedBootstrap?: number | null;
  /** Present when the bootstrap drew rows by per-row weights. */
  sampleWeight?: 'per row';
  maxBins: number;
  criterion: 'gini';
}

export interface TrainedForest {
  forest: FlatForest;
  /** Mean decrease in impurity per feature, normalised to sum 1. */
  featureImportance: Float64Array;
  hyperparameters: ForestHyperparameters;
  seed: number;
  rows: number;
  positives: number;
  /** Training distribution of each feature (for PSI). */
  distribution: FeatureDistribution[];
  /** The trainer's bin edges per feature (threshold of "bin <= b" is edges[f][b]). */
  binEdges: Float64Array[];
}

export function resolveMaxFeatures(mf: MaxFeatures, nFeatures: number): number {
  let k: number;
  if (mf === 'sqrt') k = Math.floor(Math.sqrt(nFeatures));
  else if (mf === 'log2') k = Math.floor(Math.log2(nFeatures));
  else if (mf === 'all') k = nFeatures;
  else if (typeof mf === 'number' && Number.isFinite(mf) && mf > 0 && mf < 1) k = Math.floor(mf * nFeatures);
  else if (typeof mf === 'number' && Number.isInteger(mf) && mf >= 1) k = mf;
  else throw new RangeError(`maxFeatures must be 'sqrt', 'log2', 'all', a fraction in (0, 1) or an integer >= 1, got ${String(mf)}`);
  return Math.max(1, Math.min(nFeatures, k));
}

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  // From src/ (tests, tsx) the worker still has to be built JavaScript: use dist/.
  return here.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

export async function trainForest(X: MatrixInput, y: ArrayLike<number>, options: ForestOptions = {}): Promise<TrainedForest> {
  return trainForestColumns(toColumnMajor(X), y, options);
}

/** As trainForest, from a column-major matrix (missing already MISSING_SENTINEL). */
export async function trainForestColumns(matrix: ColumnMatrix, y: ArrayLike<number>, options: ForestOptions = {}): Promise<TrainedForest> {
  const { rows, cols, columns } = matrix;
  if (columns.length !== rows * cols) throw new RangeError(`column matrix: ${columns.length} values, expected ${rows}×${cols}`);
  if (y.length !== rows) throw new RangeError(`labels: ${y.length} values for ${rows} rows`);
  if (rows > MAX_ROWS) throw new RangeError(`at most ${MAX_ROWS} rows`);
  if (cols === 0) throw new RangeError('training matrix has no features');
  const labels = new Uint8Array(rows);
  let positives = 0;
  for (let i = 0; i < rows; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new RangeError(`labels must be 0 or 1; row ${i} has ${String(v)}`);
    labels[i] = v;
    positives += v;
  }
  if (positives === 0 || positives === rows) throw new RangeError('labels must contain both classes');

  const nTrees = positiveInt('nTrees', options.nTrees ?? 100, 1);
  const maxDepth = options.maxDepth === undefined ? 12 : options.maxDepth === Infinity ? Infinity : positiveInt('maxDepth', options.maxDepth, 1);
  const maxFeatures = options.maxFeatures ?? 'sqrt';
  const minSamplesLeaf = positiveInt('minSamplesLeaf', options.minSamplesLeaf ?? 1, 1);
  const minSamplesSplit = positiveInt('minSamplesSplit', options.minSamplesSplit ?? 2, 2);
  const maxBins = positiveInt('maxBins', options.maxBins ?? 255, 2);
  if (maxBins > 255) throw new RangeError(`maxBins must be <= 255, got ${maxBins}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a uint32, got ${seed}`);
  const bootstrap = options.bootstrap ?? true;
  const maxSamples = options.maxSamples ?? null;
  let samplesPerTree = rows;
  if (maxSamples !== null) {
    if (maxSamples > 0 && maxSamples <= 1 && !Number.isInteger(maxSamples)) samplesPerTree = Math.max(1, Math.round(maxSamples * rows));
    else if (Number.isInteger(maxSamples) && maxSamples >= 1) samplesPerTree = maxSamples === 1 ? rows : maxSamples;
    else throw new RangeError(`maxSamples must be a fraction in (0, 1] or a count, got ${maxSamples}`);
    if (samplesPerTree > MAX_ROWS) throw new RangeError(`maxSamples must be <= ${MAX_ROWS}`);
  }
  const balancedBootstrap = options.balancedBootstrap ?? null;
  if (balancedBootstrap !== null && !(balancedBootstrap > 0 && Number.isFinite(balancedBootstrap))) throw new RangeError(`balancedBootstrap must be a positive number of negatives per positive, got ${balancedBootstrap}`);
  if (balancedBootstrap !== null && !bootstrap) throw new RangeError('balancedBootstrap needs bootstrap');
  let weight: Float64Array | null = null;
  if (options.sampleWeight) {
    if (!bootstrap) throw new RangeError('sampleWeight needs bootstrap');
    if (options.sampleWeight.length !== rows) throw new RangeError(`sampleWeight: ${options.sampleWeight.length} weights for ${rows} rows`);
    weight = Float64Array.from(options.sampleWeight);
    const bad = weight.findIndex((w) => !(Number.isFinite(w) && w >= 0));
    if (bad >= 0) throw new RangeError(`sampleWeight must be finite and >= 0; row ${bad} has ${weight[bad]}`);
  }
  const classWeight = options.classWeight ?? null;
  let cw: [number, number] = [1, 1];
  if (classWeight === 'balanced') cw = [rows / (2 * (rows - positives)), rows / (2 * positives)];
  else if (Array.isArray(classWeight)) {
    if (classWeight.length !== 2 || !classWeight.every((w) => Number.isFinite(w) && w > 0)) throw new RangeError('classWeight must be two positive numbers');
    cw = [classWeight[0], classWeight[1]];
  }
  const mtry = resolveMaxFeatures(maxFeatures, cols);
  const names = options.featureNames ?? Array.from({ length: cols }, (_, f) => `f${f}`);
  if (names.length !== cols) throw new RangeError(`featureNames has ${names.length} names for ${cols} features`);
  // Checked now, as the artifact will be: a repeated or empty name trained for minutes, then the model could not be loaded.
  const repeated = names.find((n, i) => n === '' || names.indexOf(n) !== i);
  if (repeated !== undefined) throw new RangeError(repeated === '' ? 'featureNames: a feature without a name' : `featureNames: '${repeated}' names two features`);

  const params: TreeParams = {
    maxDepth,
    minSamplesLeaf,
    minSamplesSplit,
    maxFeatures: mtry,
    classWeight: cw,
    bootstrap,
    samplesPerTree,
    balancedBootstrap,
    balancedDraws: balancedBootstrap !== null && maxSamples !== null ? samplesPerTree : null,
  };
  const nWorkers = Math.min(nTrees, Math.max(0, Math.floor(options.workers ?? defaultWorkers())));
  let edges: Float64Array[];
  let distribution: FeatureDistribution[];
  let raw: RawTree[];
  if (nWorkers <= 1) {
    distribution = new Array<FeatureDistribution>(cols);
    const binned = binColumns(columns, rows, cols, maxBins, (f, sorted, missing) => {
      distribution[f] = featureDistribution(names[f]!, sorted, missing);
    });
    edges = binned.edges;
    raw = await growInThread({ rows, cols, bins: binned.bins, nBins: binned.nBins, y: labels, weight }, params, seed, nTrees, options.onProgress);
  } else {
    ({ edges, distribution, raw } = await trainInWorkers(
      { rows, cols, columns },
      labels,
      weight,
      names,
      maxBins,
      params,
      seed,
      nTrees,
      nWorkers,
      options.workerUrl ?? defaultWorkerUrl(),
      options.onProgress,
    ));
  }

  const trees = raw.map((t) => {
    const threshold = new Float64Array(t.feature.length);
    for (let k = 0; k < t.feature.length; k++) {
      const f = t.feature[k]!;
      if (f >= 0) threshold[k] = edges[f]![t.bin[k]!]!;
    }
    return { ...t, threshold };
  });
  const forest = concatTrees(cols, trees);

  const importance = new Float64Array(cols);
  for (const t of raw) {
    let s = 0;
    for (let f = 0; f < cols; f++) s += t.importance[f]!;
    if (s > 0) for (let f = 0; f < cols; f++) importance[f] = importance[f]! + t.importance[f]! / s;
  }
  let total = 0;
  for (let f = 0; f < cols; f++) total += importance[f]!;
  if (total > 0) for (let f = 0; f < cols; f++) importance[f] = importance[f]! / total;

  return {
    forest,
    featureImportance: importance,
    hyperparameters: {
      nTrees,
      maxDepth,
      maxFeatures,
      maxFeaturesResolved: mtry,
      minSamplesLeaf,
      minSamplesSplit,
      classWeight,
      classWeightResolved: cw,
      bootstrap,
      maxSamples,
      samplesPerTree: balancedBootstrap !== null ? balancedSamples(rows, positives, balancedBootstrap, params.balancedDraws ?? null) : samplesPerTree,
      ...(balancedBootstrap !== null ? { balancedBootstrap } : {}),
      ...(weight ? { sampleWeight: 'per row' as const } : {}),
      maxBins,
      criterion: 'gini',
    },
    seed,
    rows,
    positives,
    distribution,
    binEdges: edges,
  };
}

/** Draws per tree of the balanced bootstrap (as growTree makes them). */
function balancedSamples(rows: number, positives: number, ratio: number, draws: number | null): number {
  const p = draws ? Math.max(1, Math.round(draws / (1 + ratio))) : positives;
  return p + Math.min(rows - positives, Math.max(1, Math.round(p * ratio)));
}

async function growInThread(
  data: BinnedData,
  params: TreeParams,
  seed: number,
  nTrees: number,
  onProgress?: (done: number, total: number) => void,
): Promise<RawTree[]> {
  const out: RawTree[] = [];
  for (let t = 0; t < nTrees; t++) {
    out.push(growTree(data, params, seed, t));
    onProgress?.(t + 1, nTrees);
    // Let timers and I/O run between trees.
    if (t + 1 < nTrees) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

interface Reply {
  type: string;
  [k: string]: unknown;
}

/** A fixed set of workers; each request gets one reply; requests go to whichever worker is free. */
class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly pending: ({ resolve: (r: Reply) => void; reject: (e: Error) => void } | null)[] = [];
  private closed = false;

  constructor(url: URL, n: number) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(url);
      this.pending.push(null);
      w.on('message', (msg: Reply) => {
        const p = this.pending[i];
        this.pending[i] = null;
        if (!p) return;
        if (msg.type === 'error') p.reject(new Error(`worker ${i}: ${String(msg.error)}`));
        else p.resolve(msg);
      });
      w.on('error', (err) => this.failAll(err));
      w.on('exit', (code) => {
        if (!this.closed) this.failAll(new Error(`worker ${i} exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private failAll(err: Error): void {
    this.pending.forEach((p, i) => {
      this.pending[i] = null;
      p?.reject(err);
    });
  }

  private request(i: number, msg: unknown): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('worker pool closed'));
    return new Promise<Reply>((resolve, reject) => {
      this.pending[i] = { resolve, reject };
      this.workers[i]!.postMessage(msg);
    });
  }

  /** The same request to every worker. */
  async broadcast(msg: unknown): Promise<void> {
    await Promise.all(this.workers.map((_, i) => this.request(i, msg)));
  }

  /** Each request to the next free worker; replies in request order. */
  async run(requests: unknown[], onReply?: (reply: Reply, index: number) => void): Promise<Reply[]> {
    const replies = new Array<Reply>(requests.length);
    let next = 0;
    const loop = async (i: number): Promise<void> => {
      while (next < requests.length) {
        const k = next++;
        replies[k] = await this.request(i, requests[k]);
        onReply?.(replies[k], k);
      }
    };
    await Promise.all(this.workers.map((_, i) => loop(i)));
    return replies;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('worker pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Binning (features spread over the workers) and tree growth on worker threads. */
async function trainInWorkers(
  matrix: ColumnMatrix,
  labels: Uint8Array,
  weight: Float64Array | null,
  names: readonly string[],
  maxBins: number,
  params: TreeParams,
  seed: number,
  nTrees: number,
  nWorkers: number,
  workerUrl: URL,
  onProgress?: (done: number, total: number) => void,
): Promise<{ edges: Float64Array[]; distribution: FeatureDistribution[]; raw: RawTree[] }> {
  if (workerUrl.protocol === 'file:' && !existsSync(fileURLToPath(workerUrl))) {
    throw new Error(`worker script ${fileURLToPath(workerUrl)} not found: build @ehr/model first (npm run build -w @ehr/model) or pass workers: 1`);
  }
  const { rows, cols, columns } = matrix;
  const pool = new WorkerPool(workerUrl, nWorkers); // starts loading while the data is copied
  try {
    const columnsShared = new SharedArrayBuffer(columns.byteLength);
    new Float64Array(columnsShared).set(columns);
    const binsShared = new SharedArrayBuffer(rows * cols);
    await pool.broadcast({ type: 'data', columns: columnsShared, bins: binsShared, rows, cols, maxBins, names: [...names] });
    const binned = await pool.run(Array.from({ length: cols }, (_, f) => ({ type: 'bin', f })));
    const edges = binned.map((r) => r.edges as Float64Array);
    const distribution = binned.map((r) => r.distribution as FeatureDistribution);
    const nBins = Int32Array.from(edges, (e) => e.length + 1);
    const yShared = new SharedArrayBuffer(rows);
    new Uint8Array(yShared).set(labels);
    let weightShared: SharedArrayBuffer | null = null;
    if (weight) {
      weightShared = new SharedArrayBuffer(weight.byteLength);
      new Float64Array(weightShared).set(weight);
    }
    await pool.broadcast({ type: 'grow', y: yShared, weight: weightShared, nBins, params, seed });
    let done = 0;
    const grown = await pool.run(Array.from({ length: nTrees }, (_, t) => ({ type: 'tree', t })), () => {
      done++;
      onProgress?.(done, nTrees);
    });
    return { edges, distribution, raw: grown.map((r) => r.result as RawTree) };
  } finally {
    await pool.close();
  }
}
