// A model artifact loaded for serving: predictions, explanations, bands and drift, all
// from the decoded forest (the artifact itself stays available as data).
import { ARTIFACT_LIMITS, readArtifactJson, type ArtifactLimits } from './artifact/files.js';
import { decodeForest } from './artifact/encoding.js';
import type { ModelArtifact } from './artifact/schema.js';
import { ArtifactError, validateArtifact } from './artifact/validate.js';
import { bandOf, type Band, type BandThresholds } from './bands.js';
import { applyCalibration, type Calibration } from './calibration.js';
import { liveCounts, psi, type FeatureDistribution, type LiveCounts } from './drift.js';
import { ForestPredictor, type Explanation, type FlatForest, type Row } from './forest.js';

/** Reads, validates (structure, content hash, forest) and loads a model artifact. */
export async function loadModelArtifact(path: string, limits: ArtifactLimits = ARTIFACT_LIMITS): Promise<SeverityModel> {
  const artifact = validateArtifact(await readArtifactJson(path, limits), path, { checkForest: false });
  return modelFromArtifact(artifact, path); // decodes and checks the forest
}

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
  const contributionsScratch = new Float64Array(forest.nFeatures);
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
      // Only the top is returned: the per-feature contributions go in one reused array.
      const e = predictor.explain(row, topK, names, contributionsScratch);
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
