// The model artifact: one schema-versioned JSON document (optionally gzipped) holding the
// forest, its inputs' contract and everything needed to monitor and explain it.
//
// Content hash: sha256 over the canonical JSON (object keys sorted, no whitespace) of the
// artifact WITHOUT `createdAt`, `version` and `contentHash`; `version` is its first 12 hex
// digits. So the same seed and the same data give the same hash, whenever and wherever
// (and with any number of worker threads) it was trained.
import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bandOf, type Band, type BandThresholds } from './bands.js';
import { applyCalibration, type Calibration } from './calibration.js';
import { liveCounts, psi, type FeatureDistribution, type LiveCounts } from './drift.js';
import { ForestPredictor, type Explanation, type FlatForest, type Row } from './forest.js';
import type { CalibrationBin, MetricSummary } from './metrics.js';
import { MISSING_SENTINEL } from './missing.js';
import type { MaxFeatures } from './train.js';

export const ARTIFACT_SCHEMA = 'ehr.severity-model';
export const ARTIFACT_SCHEMA_VERSION = 1;
/** Hex digits of the content hash used as the model version. */
export const VERSION_LENGTH = 12;

/** The forest's typed arrays, each base64 of its little-endian bytes. */
export interface EncodedForest {
  encoding: 'base64-le';
  nTrees: number;
  nFeatures: number;
  nNodes: number;
  /** Int32: first node of each tree. */
  roots: string;
  /** Int32: split feature per node, -1 for a leaf. */
  feature: string;
  /** Float64: split threshold (value < threshold → left); 0 for leaves. */
  threshold: string;
  /** Int32: left child (-1 for a leaf). */
  left: string;
  /** Int32: right child (-1 for a leaf). */
  right: string;
  /** Float64: positive-class probability of the node's training distribution. */
  value: string;
  /** Int32: distinct training rows that reached the node. */
  samples: string;
}

export interface ArtifactHyperparameters {
  nTrees: number;
  /** null = unlimited. */
  maxDepth: number | null;
  maxFeatures: MaxFeatures;
  maxFeaturesResolved: number;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  classWeight: 'balanced' | [number, number] | null;
  classWeightResolved: [number, number];
  bootstrap: boolean;
  maxSamples: number | null;
  samplesPerTree: number;
  /** Negatives drawn per positive by the balanced bootstrap (absent: plain bootstrap). */
  balancedBootstrap?: number | null;
  /** Present when the bootstrap drew rows by per-row weights. */
  sampleWeight?: 'per row';
  maxBins: number;
  criterion: 'gini';
}

export interface SplitMetrics {
  /** Metrics of the raw forest probability. */
  raw: MetricSummary;
  /** Metrics of the calibrated probability (when calibrated). */
  calibrated: MetricSummary | null;
  /** Calibration curve (10 equal-width bins) of the reported probability. */
  calibrationCurve: CalibrationBin[];
}

export interface ModelArtifact {
  schema: typeof ARTIFACT_SCHEMA;
  schemaVersion: typeof ARTIFACT_SCHEMA_VERSION;
  name: string;
  /** First VERSION_LENGTH hex digits of contentHash. */
  version: string;
  /** sha256 (hex) of the canonical content (everything except createdAt, version, contentHash). */
  contentHash: string;
  /** ISO time: SOURCE_DATE_EPOCH when set, else the time of training. Not hashed. */
  createdAt: string;
  featureNames: string[];
  featureSchemaVersion: string;
  missing: {
    /** null / NaN are replaced by this before comparing; it is below every threshold. */
    sentinel: number;
    /** Where a missing value goes at every split. */
    direction: 'left';
  };
  /** At an internal node: value < threshold → left child, else right child. */
  splitRule: 'value < threshold';
  hyperparameters: ArtifactHyperparameters;
  seed: number;
  training: {
    /** Rows given to training (before the validation split). */
    rows: number;
    positives: number;
    /** sha256 hex, see dataFingerprint(). */
    fingerprint: string;
    /** Rows the forest was grown on. */
    forestRows: number;
    /** Held-out rows used for calibration, bands and validation metrics. */
    validationRows: number;
    /** How the validation rows were chosen. */
    validation: 'none' | 'provided' | { fraction: number; stratified: true; seed: number };
  };
  forest: EncodedForest;
  /** Mean decrease in impurity per feature (same order as featureNames), sums to 1. */
  featureImportance: number[];
  calibration: Calibration;
  /** Band thresholds on the reported (calibrated) probability; null when not chosen. */
  bands: BandThresholds | null;
  metrics: { validation: SplitMetrics | null; test: SplitMetrics | null };
  /** Training distribution of each feature (same order as featureNames), for PSI. */
  trainingDistribution: FeatureDistribution[];
  /** What the model learned from (absent in artifacts written before it existed). */
  provenance?: ArtifactProvenance;
  /** What it predicts. */
  label?: ArtifactLabel;
  /** The binary alarm (the Challenge's utility needs one), chosen on validation patients. */
  alarm?: ArtifactAlarm;
  /** How the band thresholds were set, in words a ward understands. */
  bandBudget?: { medium: string; high: string; validationRates: { medium: number; high: number } };
  /** Patients the model was trained or tuned on, so an evaluation can leave them out. */
  seenPatients?: SeenPatients;
}

export interface ArtifactProvenance {
  /** physionet, meds, synthetic or cohort. */
  source: string;
  /** One line: the data, e.g. "PhysioNet/CinC 2019 set B (physionet2019_setB_train.parquet)". */
  description: string;
  /** File (or directory) name, without the machine's path. */
  file: string | null;
  /** sha256 of the file (or of the .psv files in name order), when read from files. */
  sha256: string | null;
  patients: number;
  rows: number;
  /** How the patients were split. */
  split: { seed: number; train: number; validation: number; test: number } | null;
}

export interface ArtifactLabel {
  /** e.g. SepsisLabel, death_or_icu_transfer, synthetic_outcome. */
  name: string;
  description: string;
  /** Hours ahead the label looks (PhysioNet's SepsisLabel: 6). */
  horizonHours: number;
}

export interface ArtifactAlarm {
  /** Alarm when the reported probability ≥ threshold. */
  threshold: number;
  rule: string;
  /** Normalised utility on the validation patients at this threshold. */
  validationUtility: number;
}

export interface SeenPatients {
  /** How `ids` is written: the first 8 hex digits of sha256(patient id), sorted, concatenated. */
  encoding: 'sha256-8-sorted';
  count: number;
  ids: string;
}

/** The compact, sorted hash list of the patients a model saw. */
export function seenPatientsOf(ids: Iterable<string>): SeenPatients {
  const hashes = [...new Set([...ids].map(patientHash8))].sort();
  return { encoding: 'sha256-8-sorted', count: hashes.length, ids: hashes.join('') };
}

export const patientHash8 = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 8);

/** True when the artifact's seen-patient list holds this id (false when it has no list). */
export function sawPatient(seen: SeenPatients | undefined, id: string): boolean {
  if (!seen) return false;
  const h = patientHash8(id);
  let lo = 0;
  let hi = seen.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = seen.ids.slice(mid * 8, mid * 8 + 8);
    if (v < h) lo = mid + 1;
    else hi = mid;
  }
  return lo < seen.count && seen.ids.slice(lo * 8, lo * 8 + 8) === h;
}

/** The same artifact with more fields (provenance, label, alarm, …), resealed: new content hash. */
export function withArtifactFields(artifact: ModelArtifact, fields: Partial<Pick<ModelArtifact, 'provenance' | 'label' | 'alarm' | 'bandBudget' | 'seenPatients' | 'name'>>): ModelArtifact {
  const { createdAt, version: _v, contentHash: _h, ...content } = artifact;
  return sealArtifact({ ...content, ...fields }, createdAt);
}

export type ArtifactContent = Omit<ModelArtifact, 'createdAt' | 'version' | 'contentHash'>;

// ---------------------------------------------------------------------------------------
// Hashing

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function contentHashOf(content: ArtifactContent | ModelArtifact): string {
  const { createdAt: _c, version: _v, contentHash: _h, ...rest } = content as ModelArtifact;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * sha256 (hex) of the training data: the ASCII tag "ehr-model-data-v1", rows and columns
 * as uint32 LE, the values column by column as float64 LE (missing = MISSING_SENTINEL),
 * then the labels as one byte each.
 */
export function dataFingerprint(columns: Float64Array, rows: number, cols: number, labels: ArrayLike<number>): string {
  const h = createHash('sha256');
  h.update('ehr-model-data-v1');
  const dims = Buffer.alloc(8);
  dims.writeUInt32LE(rows, 0);
  dims.writeUInt32LE(cols, 4);
  h.update(dims);
  h.update(Buffer.from(columns.buffer, columns.byteOffset, columns.byteLength));
  const y = Buffer.alloc(labels.length);
  for (let i = 0; i < labels.length; i++) y[i] = labels[i]!;
  h.update(y);
  return h.digest('hex');
}

/** createdAt: SOURCE_DATE_EPOCH (seconds) when set, else now. */
export function artifactTimestamp(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    const s = Number(epoch);
    if (!Number.isInteger(s) || s < 0) throw new RangeError(`SOURCE_DATE_EPOCH must be whole seconds, got '${epoch}'`);
    return new Date(s * 1000).toISOString();
  }
  return new Date().toISOString();
}

/** Completes the content with hash, version and createdAt. */
export function sealArtifact(content: ArtifactContent, createdAt: string = artifactTimestamp()): ModelArtifact {
  const contentHash = contentHashOf(content);
  return { ...content, createdAt, version: contentHash.slice(0, VERSION_LENGTH), contentHash };
}

// ---------------------------------------------------------------------------------------
// Forest encoding

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('model artifacts store little-endian arrays; this host is big-endian');
}

function b64(a: Int32Array | Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function fromB64<T extends Int32Array | Float64Array>(s: string, ctor: { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, what: string): T {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0) throw new Error(`${what}: ${bytes.byteLength} bytes is not a whole number of ${ctor.BYTES_PER_ELEMENT}-byte values`);
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return new ctor(buf);
}

export function encodeForest(f: FlatForest): EncodedForest {
  assertLittleEndian();
  return {
    encoding: 'base64-le',
    nTrees: f.nTrees,
    nFeatures: f.nFeatures,
    nNodes: f.feature.length,
    roots: b64(f.roots),
    feature: b64(f.feature),
    threshold: b64(f.threshold),
    left: b64(f.left),
    right: b64(f.right),
    value: b64(f.value),
    samples: b64(f.samples),
  };
}

/** Decodes and checks the forest's structure; throws an Error naming the problem. */
export function decodeForest(e: EncodedForest, where = 'forest'): FlatForest {
  assertLittleEndian();
  const f: FlatForest = {
    nTrees: e.nTrees,
    nFeatures: e.nFeatures,
    roots: fromB64(e.roots, Int32Array, `${where}.roots`),
    feature: fromB64(e.feature, Int32Array, `${where}.feature`),
    threshold: fromB64(e.threshold, Float64Array, `${where}.threshold`),
    left: fromB64(e.left, Int32Array, `${where}.left`),
    right: fromB64(e.right, Int32Array, `${where}.right`),
    value: fromB64(e.value, Float64Array, `${where}.value`),
    samples: fromB64(e.samples, Int32Array, `${where}.samples`),
  };
  const n = e.nNodes;
  if (f.roots.length !== f.nTrees) throw new Error(`${where}.roots: ${f.roots.length} roots for nTrees ${f.nTrees}`);
  for (const k of ['feature', 'threshold', 'left', 'right', 'value', 'samples'] as const) {
    if (f[k].length !== n) throw new Error(`${where}.${k}: ${f[k].length} values for nNodes ${n}`);
  }
  for (let t = 0; t < f.nTrees; t++) {
    const r = f.roots[t]!;
    const next = t + 1 < f.nTrees ? f.roots[t + 1]! : n;
    if (r < 0 || r >= n || (t > 0 && r <= f.roots[t - 1]!) || next > n) throw new Error(`${where}.roots[${t}] = ${r} is out of order or out of range`);
  }
  for (let i = 0; i < n; i++) {
    const v = f.value[i]!;
    if (!(v >= 0 && v <= 1)) throw new Error(`${where}.value[${i}] = ${v} is not a probability`);
    const feat = f.feature[i]!;
    if (feat === -1) continue;
    if (feat < 0 || feat >= f.nFeatures) throw new Error(`${where}.feature[${i}] = ${feat} is not a feature index (0..${f.nFeatures - 1}) or -1`);
    const th = f.threshold[i]!;
    if (!Number.isFinite(th) || th <= MISSING_SENTINEL) throw new Error(`${where}.threshold[${i}] = ${th} must be a finite value above the missing sentinel`);
    // Children after their parent keeps every path finite (no cycles).
    for (const side of ['left', 'right'] as const) {
      const c = f[side][i]!;
      if (c <= i || c >= n) throw new Error(`${where}.${side}[${i}] = ${c}: a child must come after its parent and inside the forest`);
    }
  }
  return f;
}

// ---------------------------------------------------------------------------------------
// Validation

class Problems {
  readonly list: string[] = [];
  add(path: string, msg: string): void {
    this.list.push(`${path}: ${msg}`);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNum(p: Problems, path: string, v: unknown, opts: { int?: boolean; min?: number; max?: number; nullable?: boolean } = {}): void {
  if (v === null && opts.nullable) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) return p.add(path, `expected a ${opts.int ? 'whole ' : ''}number, got ${JSON.stringify(v)}`);
  if (opts.int && !Number.isInteger(v)) return p.add(path, `expected a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) return p.add(path, `must be >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) p.add(path, `must be <= ${opts.max}, got ${v}`);
}

function checkStr(p: Problems, path: string, v: unknown, pattern?: RegExp): void {
  if (typeof v !== 'string' || v.length === 0) return p.add(path, `expected a non-empty string, got ${JSON.stringify(v)}`);
  if (pattern && !pattern.test(v)) p.add(path, `'${v}' does not match ${String(pattern)}`);
}

function checkNumArray(p: Problems, path: string, v: unknown, length?: number): void {
  if (!Array.isArray(v)) return p.add(path, 'expected an array of numbers');
  if (length !== undefined && v.length !== length) p.add(path, `expected ${length} values, got ${v.length}`);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) p.add(`${path}[${i}]`, `expected a number, got ${JSON.stringify(x)}`);
  });
}

/**
 * Checks that `doc` is a well-formed artifact of this schema version. Returns the list of
 * problems, each "json.path: what is wrong" (empty when valid).
 */
export function artifactProblems(doc: unknown): string[] {
  const p = new Problems();
  if (!isObj(doc)) {
    p.add('$', 'expected a JSON object');
    return p.list;
  }
  if (doc.schema !== ARTIFACT_SCHEMA) p.add('schema', `expected '${ARTIFACT_SCHEMA}', got ${JSON.stringify(doc.schema)}`);
  if (doc.schemaVersion !== ARTIFACT_SCHEMA_VERSION) p.add('schemaVersion', `this reader understands version ${ARTIFACT_SCHEMA_VERSION}, got ${JSON.stringify(doc.schemaVersion)}`);
  checkStr(p, 'name', doc.name);
  checkStr(p, 'version', doc.version, /^[0-9a-f]+$/);
  checkStr(p, 'contentHash', doc.contentHash, /^[0-9a-f]{64}$/);
  checkStr(p, 'createdAt', doc.createdAt);
  if (typeof doc.createdAt === 'string' && Number.isNaN(Date.parse(doc.createdAt))) p.add('createdAt', `'${doc.createdAt}' is not a date`);
  checkStr(p, 'featureSchemaVersion', doc.featureSchemaVersion);
  const names = doc.featureNames;
  let nF = -1;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n.length > 0)) p.add('featureNames', 'expected a non-empty array of non-empty strings');
  else {
    nF = names.length;
    if (new Set(names).size !== names.length) p.add('featureNames', 'names must be unique');
  }
  if (!isObj(doc.missing)) p.add('missing', 'expected an object');
  else {
    if (doc.missing.sentinel !== MISSING_SENTINEL) p.add('missing.sentinel', `expected ${MISSING_SENTINEL}, got ${JSON.stringify(doc.missing.sentinel)}`);
    if (doc.missing.direction !== 'left') p.add('missing.direction', `expected 'left', got ${JSON.stringify(doc.missing.direction)}`);
  }
  if (doc.splitRule !== 'value < threshold') p.add('splitRule', `expected 'value < threshold', got ${JSON.stringify(doc.splitRule)}`);
  checkNum(p, 'seed', doc.seed, { int: true, min: 0, max: 0xffffffff });
  const hp = doc.hyperparameters;
  if (!isObj(hp)) p.add('hyperparameters', 'expected an object');
  else {
    checkNum(p, 'hyperparameters.nTrees', hp.nTrees, { int: true, min: 1 });
    checkNum(p, 'hyperparameters.maxDepth', hp.maxDepth, { int: true, min: 1, nullable: true });
    checkNum(p, 'hyperparameters.minSamplesLeaf', hp.minSamplesLeaf, { int: true, min: 1 });
    checkNum(p, 'hyperparameters.minSamplesSplit', hp.minSamplesSplit, { int: true, min: 2 });
    checkNum(p, 'hyperparameters.maxBins', hp.maxBins, { int: true, min: 2, max: 255 });
    if (hp.criterion !== 'gini') p.add('hyperparameters.criterion', `expected 'gini', got ${JSON.stringify(hp.criterion)}`);
  }
  const tr = doc.training;
  if (!isObj(tr)) p.add('training', 'expected an object');
  else {
    checkNum(p, 'training.rows', tr.rows, { int: true, min: 1 });
    checkNum(p, 'training.positives', tr.positives, { int: true, min: 0 });
    checkStr(p, 'training.fingerprint', tr.fingerprint, /^[0-9a-f]{64}$/);
    checkNum(p, 'training.forestRows', tr.forestRows, { int: true, min: 1 });
    checkNum(p, 'training.validationRows', tr.validationRows, { int: true, min: 0 });
  }
  const fo = doc.forest;
  if (!isObj(fo)) p.add('forest', 'expected an object');
  else {
    if (fo.encoding !== 'base64-le') p.add('forest.encoding', `expected 'base64-le', got ${JSON.stringify(fo.encoding)}`);
    checkNum(p, 'forest.nTrees', fo.nTrees, { int: true, min: 1 });
    checkNum(p, 'forest.nNodes', fo.nNodes, { int: true, min: 1 });
    checkNum(p, 'forest.nFeatures', fo.nFeatures, { int: true, min: 1 });
    if (nF >= 0 && fo.nFeatures !== nF) p.add('forest.nFeatures', `${String(fo.nFeatures)} features, featureNames has ${nF}`);
    if (isObj(hp) && fo.nTrees !== hp.nTrees) p.add('forest.nTrees', `${String(fo.nTrees)} trees, hyperparameters.nTrees is ${String(hp.nTrees)}`);
    for (const k of ['roots', 'feature', 'threshold', 'left', 'right', 'value', 'samples']) {
      if (typeof fo[k] !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(fo[k])) p.add(`forest.${k}`, 'expected a base64 string');
    }
  }
  checkNumArray(p, 'featureImportance', doc.featureImportance, nF >= 0 ? nF : undefined);
  const cal = doc.calibration;
  if (!isObj(cal)) p.add('calibration', 'expected an object');
  else if (cal.method === 'platt') {
    checkNum(p, 'calibration.a', cal.a);
    checkNum(p, 'calibration.b', cal.b);
  } else if (cal.method === 'isotonic') {
    checkNumArray(p, 'calibration.x', cal.x);
    checkNumArray(p, 'calibration.y', cal.y);
    if (Array.isArray(cal.x) && Array.isArray(cal.y)) {
      if (cal.x.length !== cal.y.length || cal.x.length === 0) p.add('calibration', 'x and y must be non-empty and of equal length');
      for (let i = 1; i < cal.x.length; i++) {
        if (!((cal.x[i] as number) >= (cal.x[i - 1] as number))) p.add(`calibration.x[${i}]`, 'x must be non-decreasing');
        if (!((cal.y[i] as number) >= (cal.y[i - 1] as number))) p.add(`calibration.y[${i}]`, 'y must be non-decreasing');
      }
    }
  } else if (cal.method !== 'none') p.add('calibration.method', `expected 'none', 'platt' or 'isotonic', got ${JSON.stringify(cal.method)}`);
  const bands = doc.bands;
  if (bands !== null) {
    if (!isObj(bands)) p.add('bands', 'expected an object or null');
    else {
      checkNum(p, 'bands.medium', bands.medium, { min: 0, max: 1 });
      checkNum(p, 'bands.high', bands.high, { min: 0, max: 1 });
      if (typeof bands.medium === 'number' && typeof bands.high === 'number' && bands.high < bands.medium) p.add('bands', `high (${bands.high}) is below medium (${bands.medium})`);
      if (bands.rule !== 'sensitivity' && bands.rule !== 'alertRate') p.add('bands.rule', `expected 'sensitivity' or 'alertRate', got ${JSON.stringify(bands.rule)}`);
    }
  }
  if (!isObj(doc.metrics)) p.add('metrics', 'expected an object');
  const dist = doc.trainingDistribution;
  if (!Array.isArray(dist)) p.add('trainingDistribution', 'expected an array');
  else {
    if (nF >= 0 && dist.length !== nF) p.add('trainingDistribution', `expected ${nF} features, got ${dist.length}`);
    dist.forEach((d: unknown, i) => {
      const path = `trainingDistribution[${i}]`;
      if (!isObj(d)) return p.add(path, 'expected an object');
      checkNumArray(p, `${path}.edges`, d.edges);
      checkNumArray(p, `${path}.proportions`, d.proportions, Array.isArray(d.edges) ? d.edges.length + 1 : undefined);
      checkNum(p, `${path}.missingRate`, d.missingRate, { min: 0, max: 1 });
      if (Array.isArray(names) && d.feature !== names[i]) p.add(`${path}.feature`, `expected '${String(names[i])}', got ${JSON.stringify(d.feature)}`);
    });
  }
  if (p.list.length === 0 && typeof doc.version === 'string' && typeof doc.contentHash === 'string' && !doc.contentHash.startsWith(doc.version)) {
    p.add('version', `'${doc.version}' is not a prefix of contentHash`);
  }
  return p.list;
}

export class ArtifactError extends Error {
  readonly problems: string[];
  constructor(where: string, problems: string[]) {
    super(`invalid model artifact ${where}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ArtifactError';
    this.problems = problems;
  }
}

/** Validates structure, content hash and (unless told not to) the forest; returns the artifact typed. */
export function validateArtifact(doc: unknown, where = '(in memory)', options: { checkForest?: boolean } = {}): ModelArtifact {
  const problems = artifactProblems(doc);
  if (problems.length > 0) throw new ArtifactError(where, problems);
  const a = doc as ModelArtifact;
  const hash = contentHashOf(a);
  if (hash !== a.contentHash) {
    throw new ArtifactError(where, [`contentHash: the file says ${a.contentHash} but its content hashes to ${hash} (edited or corrupted)`]);
  }
  if (options.checkForest ?? true) {
    try {
      decodeForest(a.forest);
    } catch (err) {
      throw new ArtifactError(where, [(err as Error).message]);
    }
  }
  return a;
}

// ---------------------------------------------------------------------------------------
// Files

/** Writes the artifact as JSON (gzipped when the path ends in .gz), atomically. */
export async function saveModelArtifact(path: string, artifact: ModelArtifact): Promise<void> {
  const json = JSON.stringify(artifact, null, 1) + '\n';
  const data = path.endsWith('.gz') ? gzipSync(json) : Buffer.from(json);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * How large an artifact may be, on disk and once decompressed: a file that is too large
 * (or a gzip bomb) is refused before it can exhaust the memory of the service loading it.
 * The defaults are far above any forest this project trains (tens of MB).
 */
export interface ArtifactLimits {
  fileBytes: number;
  jsonBytes: number;
}
export const ARTIFACT_LIMITS: ArtifactLimits = { fileBytes: 256 * 1024 * 1024, jsonBytes: 512 * 1024 * 1024 };

/** Reads and validates an artifact file (plain or gzipped JSON). Throws ArtifactError naming the path. */
export async function readModelArtifact(path: string, limits: ArtifactLimits = ARTIFACT_LIMITS): Promise<ModelArtifact> {
  return validateArtifact(await readArtifactJson(path, limits), path);
}

async function readArtifactJson(path: string, limits: ArtifactLimits): Promise<unknown> {
  let bytes: Buffer;
  try {
    const { size } = await stat(path);
    if (size > limits.fileBytes) throw new ArtifactError(path, [`the file is ${size} bytes, more than the ${limits.fileBytes} an artifact may have`]);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof ArtifactError) throw err;
    throw new ArtifactError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  if (bytes.length > limits.fileBytes) throw new ArtifactError(path, [`the file is ${bytes.length} bytes, more than the ${limits.fileBytes} an artifact may have`]);
  let text: string;
  try {
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
    text = (gzipped ? gunzipSync(bytes, { maxOutputLength: limits.jsonBytes }) : bytes).toString('utf8');
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ArtifactError(path, [tooLarge ? `it decompresses to more than the ${limits.jsonBytes} bytes an artifact may have` : `cannot gunzip: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return doc;
}

/** Reads, validates (structure, content hash, forest) and loads a model artifact. */
export async function loadModelArtifact(path: string, limits: ArtifactLimits = ARTIFACT_LIMITS): Promise<SeverityModel> {
  const artifact = validateArtifact(await readArtifactJson(path, limits), path, { checkForest: false });
  return modelFromArtifact(artifact, path); // decodes and checks the forest
}

// ---------------------------------------------------------------------------------------
// The loaded model

export interface Score {
  /** Reported probability (calibrated when the model has a calibration). */
  probability: number;
  /** The forest's own probability (mean of the trees' leaf distributions). */
  rawProbability: number;
  band: Band | null;
  /** Top features by |contribution| to the raw probability. */
  contributions: Explanation['top'];
}

export interface SeverityModel {
  readonly artifact: ModelArtifact;
  readonly name: string;
  readonly version: string;
  readonly contentHash: string;
  readonly featureNames: readonly string[];
  readonly featureSchemaVersion: string;
  readonly nTrees: number;
  readonly forest: FlatForest;
  readonly calibration: Calibration;
  readonly bands: BandThresholds | null;
  /** Reported probability: the calibrated forest probability (raw when uncalibrated). */
  predictProba(row: Row): number;
  /** The forest's own probability. */
  predictRawProba(row: Row): number;
  /** Reported probabilities for many rows (array of rows, or row-major Float64Array with NaN = missing). */
  predictProbaBatch(rows: Float64Array | readonly Row[], out?: Float64Array): Float64Array;
  predictRawProbaBatch(rows: Float64Array | readonly Row[], out?: Float64Array): Float64Array;
  /** Saabas contributions to the RAW probability: bias + Σ all = predictRawProba(row). */
  contributions(row: Row, topK?: number): Explanation;
  /** Band of a reported probability; throws when the model has no bands. */
  band(probability: number): Band;
  /** Probability, raw probability, band and top-k contributions in one pass. */
  score(row: Row, topK?: number): Score;
  /** Builds a row (in featureNames order; missing → NaN) from named values. */
  rowFrom(values: Readonly<Record<string, number | null | undefined>>): Float64Array;
  /** Features by decreasing importance. */
  featureImportance(): { feature: string; importance: number }[];
  /** Live counts of one feature in the training distribution's bins. */
  liveCounts(feature: string | number, values: Iterable<number | null | undefined>): LiveCounts;
  /** Population stability index of one feature's live counts against training. */
  psi(feature: string | number, live: LiveCounts): number;
}

export function modelFromArtifact(artifact: ModelArtifact, where = '(in memory)'): SeverityModel {
  let forest: FlatForest;
  try {
    forest = decodeForest(artifact.forest);
  } catch (err) {
    throw new ArtifactError(where, [(err as Error).message]);
  }
  const predictor = new ForestPredictor(forest);
  const names = artifact.featureNames;
  const cal = artifact.calibration;
  const calibrate = (p: number): number => applyCalibration(cal, p);
  const featureIndex = new Map(names.map((n, i) => [n, i]));
  const dist = (feature: string | number): FeatureDistribution => {
    const i = typeof feature === 'number' ? feature : featureIndex.get(feature);
    const d = i === undefined ? undefined : artifact.trainingDistribution[i];
    if (!d) throw new RangeError(`unknown feature ${String(feature)}`);
    return d;
  };
  const band = (p: number): Band => {
    if (!artifact.bands) throw new Error(`model ${artifact.name}@${artifact.version} has no band thresholds`);
    return bandOf(p, artifact.bands);
  };
  return {
    artifact,
    name: artifact.name,
    version: artifact.version,
    contentHash: artifact.contentHash,
    featureNames: names,
    featureSchemaVersion: artifact.featureSchemaVersion,
    nTrees: forest.nTrees,
    forest,
    calibration: cal,
    bands: artifact.bands,
    predictProba: (row) => calibrate(predictor.predictProba(row)),
    predictRawProba: (row) => predictor.predictProba(row),
    predictProbaBatch(rows, out) {
      const res = predictor.predictProbaBatch(rows, out);
      if (cal.method !== 'none') for (let i = 0; i < res.length; i++) res[i] = calibrate(res[i]!);
      return res;
    },
    predictRawProbaBatch: (rows, out) => predictor.predictProbaBatch(rows, out),
    contributions: (row, topK = 5) => predictor.explain(row, topK, names),
    band,
    score(row, topK = 5) {
      const e = predictor.explain(row, topK, names);
      const probability = calibrate(e.prediction);
      return { probability, rawProbability: e.prediction, band: artifact.bands ? bandOf(probability, artifact.bands) : null, contributions: e.top };
    },
    rowFrom(values) {
      const row = new Float64Array(names.length);
      names.forEach((n, i) => {
        const v = values[n];
        row[i] = v === null || v === undefined ? NaN : v;
      });
      return row;
    },
    featureImportance: () =>
      names.map((feature, i) => ({ feature, importance: artifact.featureImportance[i]! })).sort((a, b) => b.importance - a.importance),
    liveCounts: (feature, values) => liveCounts(dist(feature), values),
    psi: (feature, live) => psi(dist(feature), live),
  };
}

/** What GET /model shows about a model: name, version, data, label, alarm and bands, in plain fields. */
export interface ModelCard {
  name: string;
  version: string;
  createdAt: string;
  trees: number;
  features: number;
  featureSchemaVersion: string;
  data: { source: string; description: string; file: string | null; sha256: string | null; patients: number | null; rows: number };
  label: ArtifactLabel | null;
  alarm: ArtifactAlarm | null;
  bands: { medium: number; high: number; rule: string; budget: { medium: string; high: string } | null } | null;
  testMetrics: { auroc: number | null; auprc: number | null } | null;
}

export function modelCard(a: ModelArtifact): ModelCard {
  const test = a.metrics.test?.calibrated ?? a.metrics.test?.raw ?? null;
  return {
    name: a.name,
    version: a.version,
    createdAt: a.createdAt,
    trees: a.hyperparameters.nTrees,
    features: a.featureNames.length,
    featureSchemaVersion: a.featureSchemaVersion,
    data: a.provenance
      ? { source: a.provenance.source, description: a.provenance.description, file: a.provenance.file, sha256: a.provenance.sha256, patients: a.provenance.patients, rows: a.provenance.rows }
      : { source: 'unknown', description: 'not recorded (artifact written before provenance was kept)', file: null, sha256: null, patients: null, rows: a.training.rows },
    label: a.label ?? null,
    alarm: a.alarm ?? null,
    bands: a.bands ? { medium: a.bands.medium, high: a.bands.high, rule: a.bands.rule, budget: a.bandBudget ? { medium: a.bandBudget.medium, high: a.bandBudget.high } : null } : null,
    testMetrics: test ? { auroc: test.auroc, auprc: test.auprc } : null,
  };
}
