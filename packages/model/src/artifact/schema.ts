// The model artifact as one TypeBox definition, like every other contract of the project:
// it validates a document (readModelArtifact) and gives its static type. Nested reports
// whose types live with the code that computes them (calibration, bands, metrics, drift)
// keep those types here through Type.Unsafe, and are still checked at run time.
import { MODEL_NAME_MAX, MODEL_VERSION_MAX } from '@ehr/features';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { BandThresholds } from '../bands.js';
import type { Calibration } from '../calibration.js';
import type { FeatureDistribution } from '../drift.js';
import type { CalibrationBin, MetricSummary } from '../metrics.js';
import type { MaxFeatures } from '../train.js';

export const ARTIFACT_SCHEMA = 'ehr.severity-model';
export const ARTIFACT_SCHEMA_VERSION = 1;
/** Hex digits of the content hash used as the model version. */
export const VERSION_LENGTH = 12;

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const NonEmpty = Type.String({ minLength: 1 });
const Count = (minimum = 0) => Type.Integer({ minimum });
const Probability = Type.Number({ minimum: 0, maximum: 1 });
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' });
/** A rate that JSON writes as null when it was NaN (nothing flagged, no positives). */
const Rate = Type.Union([Type.Number(), Type.Null()]);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** The forest's typed arrays, each base64 of its little-endian bytes. */
export const EncodedForestSchema = Type.Object({
  encoding: Type.Literal('base64-le'),
  nTrees: Count(1),
  nFeatures: Count(1),
  nNodes: Count(1),
  /** Int32: first node of each tree. */
  roots: Base64,
  /** Int32: split feature per node, -1 for a leaf. */
  feature: Base64,
  /** Float64: split threshold (value < threshold → left); 0 for leaves. */
  threshold: Base64,
  /** Int32: left child (-1 for a leaf). */
  left: Base64,
  /** Int32: right child (-1 for a leaf). */
  right: Base64,
  /** Float64: positive-class probability of the node's training distribution. */
  value: Base64,
  /** Int32: distinct training rows that reached the node. */
  samples: Base64,
});
export type EncodedForest = Static<typeof EncodedForestSchema>;

const MaxFeaturesSchema = Type.Unsafe<MaxFeatures>(Type.Union([Type.Literal('sqrt'), Type.Literal('log2'), Type.Literal('all'), Type.Number({ exclusiveMinimum: 0 })]));

export const ArtifactHyperparametersSchema = Type.Object({
  nTrees: Count(1),
  /** null = unlimited. */
  maxDepth: Nullable(Count(1)),
  maxFeatures: MaxFeaturesSchema,
  maxFeaturesResolved: Count(1),
  minSamplesLeaf: Count(1),
  minSamplesSplit: Count(2),
  classWeight: Type.Union([Type.Literal('balanced'), Type.Tuple([Type.Number(), Type.Number()]), Type.Null()]),
  classWeightResolved: Type.Tuple([Type.Number(), Type.Number()]),
  bootstrap: Type.Boolean(),
  maxSamples: Nullable(Type.Number()),
  samplesPerTree: Count(1),
  /** Negatives drawn per positive by the balanced bootstrap (absent: plain bootstrap). */
  balancedBootstrap: Type.Optional(Nullable(Type.Number({ exclusiveMinimum: 0 }))),
  /** Present when the bootstrap drew rows by per-row weights. */
  sampleWeight: Type.Optional(Type.Literal('per row')),
  maxBins: Type.Integer({ minimum: 2, maximum: 255 }),
  criterion: Type.Literal('gini'),
});
export type ArtifactHyperparameters = Static<typeof ArtifactHyperparametersSchema>;

const MetricSummarySchema = Type.Unsafe<MetricSummary>(
  Type.Object({ rows: Count(), positives: Count(), auroc: Rate, auprc: Rate, brier: Rate, ece: Rate }),
);
const CalibrationBinSchema = Type.Unsafe<CalibrationBin>(
  Type.Object({ lower: Type.Number(), upper: Type.Number(), count: Count(), meanPredicted: Type.Number(), fractionPositive: Type.Number() }),
);
export const SplitMetricsSchema = Type.Object({
  /** Metrics of the raw forest probability. */
  raw: MetricSummarySchema,
  /** Metrics of the calibrated probability (when calibrated). */
  calibrated: Nullable(MetricSummarySchema),
  /** Calibration curve (10 equal-width bins) of the reported probability. */
  calibrationCurve: Type.Array(CalibrationBinSchema),
});
export type SplitMetrics = Static<typeof SplitMetricsSchema>;

// Isotonic knots map a forest probability to a probability: both ends lie in [0, 1]. A y of
// 1.2 would be served as a probability every reader of the score contract refuses (each score
// a dead letter, no alert at all), so such a model is refused at load instead.
const NonDecreasing = Type.Array(Probability, { minItems: 1 });
export const CalibrationSchema = Type.Unsafe<Calibration>(
  Type.Union([
    Type.Object({ method: Type.Literal('none') }),
    Type.Object({ method: Type.Literal('platt'), a: Type.Number(), b: Type.Number() }),
    Type.Object({ method: Type.Literal('isotonic'), x: NonDecreasing, y: NonDecreasing }),
  ]),
);

const ConfusionMatrixSchema = Type.Object({
  threshold: Type.Number(),
  tp: Count(),
  fp: Count(),
  tn: Count(),
  fn: Count(),
  sensitivity: Rate,
  specificity: Rate,
  ppv: Rate,
  npv: Rate,
  alertRate: Rate,
});
export const BandThresholdsSchema = Type.Unsafe<BandThresholds>(
  Type.Object({
    rule: Type.Union([Type.Literal('sensitivity'), Type.Literal('alertRate')]),
    targets: Type.Object({ medium: Type.Number(), high: Type.Number() }),
    medium: Probability,
    high: Probability,
    validation: Type.Object({ medium: ConfusionMatrixSchema, high: ConfusionMatrixSchema }),
  }),
);

export const FeatureDistributionSchema = Type.Unsafe<FeatureDistribution>(
  Type.Object({ feature: NonEmpty, edges: Type.Array(Type.Number()), proportions: Type.Array(Type.Number()), missingRate: Probability }),
);

const SplitFractionsSchema = Type.Object({ train: Probability, validation: Probability, test: Probability });

export const ArtifactSubsetSchema = Type.Object({
  /** Stays asked for (`--stays`); `patients` is how many were drawn (fewer when a part ran out). */
  stays: Count(1),
  /** The seed of the draw (`--seed`). */
  seed: Type.Integer(),
  /** The subset's shares of the reference split's training, validation and test patients. */
  fractions: SplitFractionsSchema,
  /** The seed and fractions of the whole data's split the subset is drawn inside. */
  referenceSeed: Type.Integer(),
  referenceFractions: SplitFractionsSchema,
  /** sha256 of the data the reference split was made on (the file the subset is drawn from). */
  referenceSha256: Hex64,
});
export type ArtifactSubset = Static<typeof ArtifactSubsetSchema>;

export const ArtifactProvenanceSchema = Type.Object({
  /** physionet, meds, synthetic or cohort. */
  source: NonEmpty,
  /** One line: the data, e.g. "PhysioNet/CinC 2019 set B (physionet2019_setB_train.parquet)". */
  description: Type.String(),
  /** File (or directory) name, without the machine's path. */
  file: Nullable(Type.String()),
  /** sha256 of the file (or of the .psv files in name order), when read from files. */
  sha256: Nullable(Type.String()),
  patients: Count(),
  rows: Count(),
  /** How the patients were split. */
  split: Nullable(Type.Object({ seed: Type.Integer(), train: Count(), validation: Count(), test: Count() })),
  /**
   * A seeded subset of the data (`--stays`), drawn inside the data's own reference split: what
   * redraws it (its patients and their parts) from the file of `referenceSha256`. Absent for the
   * whole data, and in subset artifacts written before it was recorded.
   */
  subset: Type.Optional(ArtifactSubsetSchema),
});
export type ArtifactProvenance = Static<typeof ArtifactProvenanceSchema>;

export const ArtifactLabelSchema = Type.Object({
  /** e.g. SepsisLabel, death_or_icu_transfer, synthetic_outcome. */
  name: NonEmpty,
  description: Type.String(),
  /** Hours ahead the label looks (PhysioNet's SepsisLabel: 6). */
  horizonHours: Type.Number({ minimum: 0 }),
});
export type ArtifactLabel = Static<typeof ArtifactLabelSchema>;

export const ArtifactAlarmSchema = Type.Object({
  /** Alarm when the reported probability ≥ threshold. */
  threshold: Probability,
  rule: Type.String(),
  /** Normalised utility on the validation patients at this threshold. */
  validationUtility: Type.Number(),
});
export type ArtifactAlarm = Static<typeof ArtifactAlarmSchema>;

export const SeenPatientsSchema = Type.Object({
  /** How `ids` is written: the first 8 hex digits of sha256(patient id), sorted, concatenated. */
  encoding: Type.Literal('sha256-8-sorted'),
  count: Count(),
  ids: Type.String({ pattern: '^[0-9a-f]*$' }),
});
export type SeenPatients = Static<typeof SeenPatientsSchema>;

export const ModelArtifactSchema = Type.Object({
  schema: Type.Literal(ARTIFACT_SCHEMA),
  schemaVersion: Type.Literal(ARTIFACT_SCHEMA_VERSION),
  /** Every score carries it: a model whose scores the contract would refuse is refused here, at load. */
  name: Type.String({ minLength: 1, maxLength: MODEL_NAME_MAX }),
  /** First VERSION_LENGTH hex digits of contentHash. */
  version: Type.String({ pattern: '^[0-9a-f]+$', maxLength: MODEL_VERSION_MAX }),
  /** sha256 (hex) of the canonical content (everything except createdAt, version, contentHash). */
  contentHash: Hex64,
  /** ISO time: SOURCE_DATE_EPOCH when set, else the time of training. Not hashed. */
  createdAt: NonEmpty,
  featureNames: Type.Array(NonEmpty, { minItems: 1 }),
  featureSchemaVersion: NonEmpty,
  missing: Type.Object({
    /** null / NaN are replaced by this before comparing; it is below every threshold. */
    sentinel: Type.Number(),
    /** Where a missing value goes at every split. */
    direction: Type.Literal('left'),
  }),
  /** At an internal node: value < threshold → left child, else right child. */
  splitRule: Type.Literal('value < threshold'),
  hyperparameters: ArtifactHyperparametersSchema,
  seed: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
  training: Type.Object({
    /** Rows given to training (before the validation split). */
    rows: Count(1),
    positives: Count(),
    /** sha256 hex, see dataFingerprint(). */
    fingerprint: Hex64,
    /** Rows the forest was grown on. */
    forestRows: Count(1),
    /** Held-out rows used for calibration, bands and validation metrics. */
    validationRows: Count(),
    /** How the validation rows were chosen. */
    validation: Type.Union([
      Type.Literal('none'),
      Type.Literal('provided'),
      Type.Object({ fraction: Type.Number(), stratified: Type.Literal(true), seed: Type.Integer() }),
    ]),
  }),
  forest: EncodedForestSchema,
  /** Mean decrease in impurity per feature (same order as featureNames), sums to 1. */
  featureImportance: Type.Array(Type.Number()),
  calibration: CalibrationSchema,
  /** Band thresholds on the reported (calibrated) probability; null when not chosen. */
  bands: Nullable(BandThresholdsSchema),
  metrics: Type.Object({ validation: Nullable(SplitMetricsSchema), test: Nullable(SplitMetricsSchema) }),
  /** Training distribution of each feature (same order as featureNames), for PSI. */
  trainingDistribution: Type.Array(FeatureDistributionSchema),
  /** What the model learned from (absent in artifacts written before it existed). */
  provenance: Type.Optional(ArtifactProvenanceSchema),
  /** What it predicts. */
  label: Type.Optional(ArtifactLabelSchema),
  /** The binary alarm (the Challenge's utility needs one), chosen on validation patients. */
  alarm: Type.Optional(ArtifactAlarmSchema),
  /** How the band thresholds were set, in words a ward understands. */
  bandBudget: Type.Optional(Type.Object({ medium: Type.String(), high: Type.String(), validationRates: Type.Object({ medium: Type.Number(), high: Type.Number() }) })),
  /** Patients the model was trained or tuned on, or that any choice behind it was made on (a subset model lists its full split's training and validation patients), so an evaluation can leave them out. */
  seenPatients: Type.Optional(SeenPatientsSchema),
});
export type ModelArtifact = Static<typeof ModelArtifactSchema>;
export type ArtifactContent = Omit<ModelArtifact, 'createdAt' | 'version' | 'contentHash'>;
