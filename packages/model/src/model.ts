// trainSeverityModel: forest + validation split + calibration + bands + metrics → a sealed
// artifact and the loaded SeverityModel.
import { createRandom } from '@ehr/features';
import {
  encodeForest,
  modelFromArtifact,
  sealArtifact,
  dataFingerprint,
  ARTIFACT_SCHEMA,
  ARTIFACT_SCHEMA_VERSION,
  type ArtifactContent,
  type ModelArtifact,
  type SeverityModel,
  type SplitMetrics,
} from './artifact.js';
import { chooseBands, DEFAULT_BAND_RULE, type BandRule, type BandThresholds } from './bands.js';
import { applyCalibration, fitCalibration, type Calibration, type CalibrationMethod } from './calibration.js';
import { ForestPredictor } from './forest.js';
import { selectRows, toColumnMajor, type ColumnMatrix, type MatrixInput } from './matrix.js';
import { calibrationCurve, summarize } from './metrics.js';
import { MISSING_SENTINEL } from './missing.js';
import { trainForestColumns, type ForestOptions } from './train.js';

export interface LabelledData {
  X: MatrixInput;
  y: ArrayLike<number>;
}

export interface TrainModelOptions extends LabelledData {
  name: string;
  featureNames: readonly string[];
  /** Version string of the feature code/contract the rows come from (default 'unversioned'). */
  featureSchemaVersion?: string;
  /** Forest hyperparameters, workers and progress (seed may be given here or below). */
  forest?: ForestOptions;
  /** Seed for the forest and the validation split (default: forest.seed ?? 0). */
  seed?: number;
  /**
   * Held-out data for calibration, band thresholds and validation metrics: a fraction of
   * the rows (stratified, seeded; default 0.2), explicit rows, or null for none (then no
   * calibration, no bands).
   */
  validation?: number | LabelledData | null;
  /** Calibration fitted on the validation rows (default 'isotonic'; 'none' without validation). */
  calibration?: CalibrationMethod;
  /** Isotonic only: strictly increasing (strictIsotonic), so calibration adds no ties to the ranking. */
  strictCalibration?: boolean;
  /** Band rule applied on the validation rows (default sensitivity 0.8 / 0.4); null = no bands. */
  bands?: BandRule | null;
  /** Optional test rows: metrics recorded in the artifact. */
  test?: LabelledData;
  /** Override createdAt (default SOURCE_DATE_EPOCH, else now). */
  createdAt?: string;
}

export interface TrainedModel {
  artifact: ModelArtifact;
  model: SeverityModel;
  version: string;
}

function labelsOf(y: ArrayLike<number>, rows: number, what: string): Uint8Array {
  if (y.length !== rows) throw new RangeError(`${what}: ${y.length} labels for ${rows} rows`);
  const out = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new RangeError(`${what}: labels must be 0 or 1; row ${i} has ${String(v)}`);
    out[i] = v;
  }
  return out;
}

/** Stratified seeded split: `fraction` of each class (rounded) goes to validation. */
export function stratifiedSplit(y: ArrayLike<number>, fraction: number, seed: number): { train: Uint32Array; validation: Uint32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`validation fraction must be in (0, 1), got ${fraction}`);
  const rng = createRandom(seed >>> 0).fork('validation-split');
  const inVal = new Uint8Array(y.length);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === cls) idx.push(i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    const k = Math.round(idx.length * fraction);
    for (let i = 0; i < k; i++) inVal[idx[i]!] = 1;
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < y.length; i++) (inVal[i] ? validation : train).push(i);
  return { train: Uint32Array.from(train), validation: Uint32Array.from(validation) };
}

function rowMajor(m: ColumnMatrix): Float64Array {
  const out = new Float64Array(m.rows * m.cols);
  for (let f = 0; f < m.cols; f++) for (let i = 0; i < m.rows; i++) out[i * m.cols + f] = m.columns[f * m.rows + i]!;
  return out;
}

function splitMetrics(y: Uint8Array, raw: Float64Array, cal: Calibration): SplitMetrics {
  if (cal.method === 'none') return { raw: summarize(y, raw), calibrated: null, calibrationCurve: calibrationCurve(y, raw) };
  const p = raw.map((v) => applyCalibration(cal, v));
  return { raw: summarize(y, raw), calibrated: summarize(y, p), calibrationCurve: calibrationCurve(y, p) };
}

export async function trainSeverityModel(options: TrainModelOptions): Promise<TrainedModel> {
  const all = toColumnMajor(options.X);
  const yAll = labelsOf(options.y, all.rows, 'training data');
  const names = [...options.featureNames];
  if (names.length !== all.cols) throw new RangeError(`featureNames has ${names.length} names for ${all.cols} features`);
  const seed = options.seed ?? options.forest?.seed ?? 0;
  const fingerprint = dataFingerprint(all.columns, all.rows, all.cols, yAll);

  // Validation rows.
  const validationOpt = options.validation === undefined ? 0.2 : options.validation;
  let trainM = all;
  let yTrain = yAll;
  let valM: ColumnMatrix | null = null;
  let yVal: Uint8Array | null = null;
  let validationInfo: ArtifactContent['training']['validation'] = 'none';
  if (typeof validationOpt === 'number') {
    const split = stratifiedSplit(yAll, validationOpt, seed);
    trainM = selectRows(all, split.train);
    yTrain = Uint8Array.from(split.train, (i) => yAll[i]!);
    valM = selectRows(all, split.validation);
    yVal = Uint8Array.from(split.validation, (i) => yAll[i]!);
    validationInfo = { fraction: validationOpt, stratified: true, seed };
  } else if (validationOpt !== null) {
    valM = toColumnMajor(validationOpt.X);
    if (valM.cols !== all.cols) throw new RangeError(`validation rows have ${valM.cols} features, training has ${all.cols}`);
    yVal = labelsOf(validationOpt.y, valM.rows, 'validation data');
    validationInfo = 'provided';
  }

  const trained = await trainForestColumns(trainM, yTrain, { ...options.forest, seed, featureNames: names });
  const predictor = new ForestPredictor(trained.forest);

  let calibration: Calibration = { method: 'none' };
  let bands: BandThresholds | null = null;
  let validation: SplitMetrics | null = null;
  const calMethod = options.calibration ?? (valM ? 'isotonic' : 'none');
  if (valM && yVal) {
    const raw = predictor.predictProbaBatch(rowMajor(valM));
    calibration = fitCalibration(calMethod, raw, yVal, { strict: options.strictCalibration === true });
    const reported = calibration.method === 'none' ? raw : raw.map((v) => applyCalibration(calibration, v));
    const bandRule = options.bands === undefined ? DEFAULT_BAND_RULE : options.bands;
    if (bandRule) bands = chooseBands(yVal, reported, bandRule);
    validation = splitMetrics(yVal, raw, calibration);
  } else {
    if (calMethod !== 'none') throw new RangeError(`calibration '${calMethod}' needs validation data`);
    if (options.bands) throw new RangeError('band thresholds need validation data');
  }
  let test: SplitMetrics | null = null;
  if (options.test) {
    const tm = toColumnMajor(options.test.X);
    if (tm.cols !== all.cols) throw new RangeError(`test rows have ${tm.cols} features, training has ${all.cols}`);
    test = splitMetrics(labelsOf(options.test.y, tm.rows, 'test data'), predictor.predictProbaBatch(rowMajor(tm)), calibration);
  }

  const hp = trained.hyperparameters;
  const content: ArtifactContent = {
    schema: ARTIFACT_SCHEMA,
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    name: options.name,
    featureNames: names,
    featureSchemaVersion: options.featureSchemaVersion ?? 'unversioned',
    missing: { sentinel: MISSING_SENTINEL, direction: 'left' },
    splitRule: 'value < threshold',
    hyperparameters: { ...hp, maxDepth: Number.isFinite(hp.maxDepth) ? hp.maxDepth : null },
    seed,
    training: {
      rows: all.rows,
      positives: yAll.reduce((a, b) => a + b, 0),
      fingerprint,
      forestRows: trainM.rows,
      validationRows: valM ? valM.rows : 0,
      validation: validationInfo,
    },
    forest: encodeForest(trained.forest),
    featureImportance: Array.from(trained.featureImportance),
    calibration,
    bands,
    metrics: { validation, test },
    trainingDistribution: trained.distribution,
  };
  const artifact = sealArtifact(content, options.createdAt);
  return { artifact, model: modelFromArtifact(artifact), version: artifact.version };
}
