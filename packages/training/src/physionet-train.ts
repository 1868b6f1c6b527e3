// Training on real ICU data (PhysioNet/CinC 2019): hourly rows from the feature service's
// own engine, a seeded patient split (train / validation / test), the forest grown on the
// train patients, and every choice made on the validation patients — isotonic calibration,
// band thresholds at NEWS2 ≥ 5's and ≥ 7's alert rates, the alarm threshold with the best
// Challenge utility — so the test patients are only ever scored.
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CalibrationMethod, ModelArtifact, SeverityModel } from '@ehr/model';
import type { ClinicalEvaluation } from './clinical-evaluation.js';
import { evaluateClinicalRows } from './clinical-rows.js';
import { bestUtilityThreshold, rowUtilities } from './challenge-utility.js';
import { completeArtifact, DEFAULT_MODEL_NAME, fitModel, secondsSince, splitPatients, type ForestSettings, type SplitPart, type Timings, type TrainingProgress } from './fit.js';
import { loadPhysioNetDataset, type HourlyDataset } from './physionet-data.js';
import { isReferenceData, isReferenceSplit, PHYSIONET_REFERENCE_DATA, PHYSIONET_REFERENCE_SEED, PHYSIONET_SPLIT } from './physionet-subset.js';
import { outputPath, writeModelOutputs } from './outputs.js';
import { demographicSubgroups } from './real-data.js';
import { renderClinicalReport } from './clinical-report.js';
import { column } from './rows.js';
import type { PatientSplit, SplitFractions } from './split.js';
import { describeCandidate, tuneForest, type ForestCandidate, type TuningResult } from './forest-tuning.js';

/**
 * The forest for real hourly data: the balanced bootstrap (3 negatives per positive), 500 trees,
 * and the features per split, depth and leaf size that 3-fold cross-validation on the training
 * patients chose (`--tune`; README.md has both rounds' tables). `npm run train -- --physionet`
 * without --tune grows this one.
 */
export const PHYSIONET_FOREST: ForestSettings = { nTrees: 500, maxDepth: 28, maxFeatures: 0.1, minSamplesLeaf: 10, classWeight: null, balancedBootstrap: 3 };
export const SEPSIS_LABEL = { name: 'SepsisLabel', description: 'PhysioNet/CinC 2019 SepsisLabel: 1 from 6 h before the clinical onset of sepsis (Sepsis-3) onward', horizonHours: 6 } as const;

export interface PhysioNetTrainingOptions {
  /** The packed parquet, a directory of .psv files, or one .psv. */
  path: string;
  out: string;
  /** HTML report (default report.html beside the model; null = none). */
  report?: string | null;
  /** Evaluation JSON (default evaluation.json beside the model; null = none). */
  json?: string | null;
  /** Seeds the stay subset, the split and the forest (default 1). */
  seed?: number;
  /** A seeded subset of this many stays (default all), drawn inside the full data's seed-1 split (physionet-subset.ts). */
  stays?: number;
  split?: SplitFractions;
  forest?: ForestSettings;
  calibration?: CalibrationMethod;
  /** Patient bootstrap resamples for the intervals (default 200). */
  bootstrap?: number;
  name?: string;
  createdAt?: string;
  progress?: TrainingProgress;
  reproduce?: string | null;
  /** Already loaded rows. */
  dataset?: HourlyDataset;
  warn?: (message: string) => void;
  /** Choose features per split, depth, leaf size and the balanced ratio by k-fold cross-validation on the training patients. */
  tune?: { folds?: number; trees?: number; grid?: readonly ForestCandidate[] } | null;
}

export interface PhysioNetTrainingResult {
  /** The cross-validation table, when tuned. */
  tuning: TuningResult | null;
  artifact: ModelArtifact;
  model: SeverityModel;
  modelPath: string;
  reportPath: string | null;
  jsonPath: string | null;
  evaluation: ClinicalEvaluation;
  dataset: HourlyDataset;
  /** The patient split the model was fitted and scored on (indices into dataset.patients). */
  split: PatientSplit;
  splits: SplitPart[];
  timings: Timings;
}

function rate(values: Float64Array, threshold: number): number {
  let n = 0;
  for (const v of values) if (v >= threshold) n++;
  return n / Math.max(1, values.length);
}

const THE_CHOICES = 'the forest\'s settings (PHYSIONET_FOREST), the feature set and the calibration';

/**
 * What the test patients are besides unseen. The shipped choices were made on the training and
 * validation patients of one file's seed-1 split (PHYSIONET_REFERENCE_DATA): a subset drawn
 * inside that split has the full model's test patients, on which no choice was made; a subset of
 * other data is drawn inside that data's own seed-1 split; a whole-data split of the reference
 * file other than the reference split (another seed or other fractions) mixes in patients a
 * choice was made on.
 */
export function splitCaveat(data: Pick<HourlyDataset, 'reference' | 'source'>, fractions: SplitFractions, seed: number): string {
  const reference = isReferenceData(data.source.sha256);
  if (data.reference) {
    return reference
      ? ` (test patients of the full data's seed-${data.reference.seed} split too, so no choice behind this model was made on them; those patients' figures had been read before, for earlier models: @ehr/training README, "a second look at the test split")`
      : ` (test patients of this data's own seed-${data.reference.seed} split too; ${THE_CHOICES} were chosen on ${PHYSIONET_REFERENCE_DATA.name}, not on this data)`;
  }
  if (!reference || isReferenceSplit(fractions, seed)) return '';
  return ` (split with seed ${seed}, train/validation/test ${formatFractions(fractions)}: ${THE_CHOICES} were chosen on the training and validation patients of this file's seed-${PHYSIONET_REFERENCE_SEED} ${formatFractions(PHYSIONET_SPLIT)} split, so some of these test patients are ones a choice was made on)`;
}

const formatFractions = (f: SplitFractions) => [f.train, f.validation, f.test].map((x) => String(Math.round(x * 1000) / 1000)).join('/');

/** The provenance's description of a subset (empty for the whole data). */
export function subsetDescription(data: Pick<HourlyDataset, 'reference' | 'source'>): string {
  const r = data.reference;
  if (!r) return '';
  const drawn = `seeded subset of ${r.draw.stays} stays, seed ${r.draw.seed}`;
  return isReferenceData(data.source.sha256)
    ? ` (${drawn}, drawn inside the full data's seed-${r.seed} split: its test patients are test patients of the full-data model, and no choice behind it was made on them)`
    : ` (${drawn}, drawn inside this data's own seed-${r.seed} split; ${THE_CHOICES} were chosen on ${PHYSIONET_REFERENCE_DATA.name}, not on this data)`;
}

export async function trainOnPhysioNet(options: PhysioNetTrainingOptions): Promise<PhysioNetTrainingResult> {
  const progress = options.progress ?? {};
  const seed = options.seed ?? 1;
  const bootstrap = options.bootstrap ?? 200;
  const timings: Timings = [];
  progress.stage?.('reading and featurizing');
  const data =
    options.dataset ??
    (await loadPhysioNetDataset(options.path, {
      seed,
      ...(options.stays !== undefined ? { stays: options.stays } : {}),
      ...(options.split ? { split: options.split } : {}),
      ...(options.warn ? { warn: options.warn } : {}),
      ...(progress.stays ? { onProgress: progress.stays } : {}),
    }));
  if (!data.hasLabels) throw new Error(`${options.path}: no SepsisLabel column, nothing to learn`);
  timings.push({ label: `read (${data.source.kind}, ${data.patients.length} stays)`, seconds: data.stats.readSeconds });
  timings.push({ label: `features (${data.stats.events} events → ${data.rows} hourly rows × ${data.cols})`, seconds: data.stats.featureSeconds });

  // A subset keeps its patients' parts of the full split (physionet-subset.ts): re-split, its
  // test set would hold patients the full model's choices were made on.
  const { split, parts: splits } = splitPatients(data, options.split ?? PHYSIONET_SPLIT, seed, data.reference?.part);
  for (const s of splits) if (s.positives === 0) throw new Error(`the ${s.name} split has no positive hour (${data.patients.length} stays): use more stays`);

  // Band budgets: NEWS2's alert rates on the validation patients.
  const valNews2 = column(data.X, data.cols, split.validation, 'news2_total');
  const mediumRate = rate(valNews2, 5);
  const highRate = rate(valNews2, 7);

  progress.stage?.('training');
  const t0 = performance.now();
  let forest: ForestSettings = { ...PHYSIONET_FOREST, ...options.forest };
  let tuning: TuningResult | null = null;
  if (options.tune) {
    progress.stage?.('choosing features per split, depth, leaf size and ratio by cross-validation on the training patients');
    const tt = performance.now();
    tuning = await tuneForest({
      X: data.X,
      cols: data.cols,
      y: data.y,
      patientOf: data.patientOf,
      rows: split.train,
      nPatients: data.patients.length,
      base: forest,
      seed,
      ...options.tune,
      onCandidate: (done, total, row) => progress.stage?.(`cross-validation ${done}/${total}: ${describeCandidate(row.candidate)} → AUROC ${row.auroc.toFixed(4)}`),
    });
    forest = { ...forest, ...tuning.best };
    timings.push({ label: `cross-validation on the training patients (${tuning.rows.length} candidates × ${tuning.folds} folds, ${tuning.trees} trees)`, seconds: secondsSince(tt) });
  }
  const { trained, validation, validationY } = await fitModel({
    name: options.name ?? `${DEFAULT_MODEL_NAME}-physionet`,
    data,
    // No test metrics in this artifact: the test patients are evaluated clinically below.
    rows: { train: split.train, validation: split.validation },
    forest,
    seed,
    progress,
    calibration: options.calibration ?? 'isotonic',
    strictCalibration: true,
    // The lowest thresholds flagging no more validation hours than NEWS2 ≥ 5 and ≥ 7 do.
    bands: { rule: 'alertRate', medium: Math.max(mediumRate, 1e-6), high: Math.max(Math.min(highRate, mediumRate), 1e-6) },
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
  timings.push({ label: `forest (${forest.nTrees} trees on ${splits[0]!.rows} rows of ${split.patients.train.length} patients), calibration and bands on ${validation.rows} validation rows`, seconds: secondsSince(t0) });

  // The alarm threshold: best Challenge utility on the validation patients.
  const valP = trained.model.predictProbaBatch(validation.data);
  const valUtility = rowUtilities(validationY, Uint32Array.from(split.validation, (i) => data.patientOf[i]!), Uint32Array.from(split.validation, (i) => data.hourOf[i]!));
  const alarm = bestUtilityThreshold(valUtility, valP);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const { artifact, model } = completeArtifact(
    trained.artifact,
    {
      provenance: {
        source: 'physionet',
        description: `PhysioNet/CinC 2019 training set B (${data.source.kind === 'parquet' ? 'packed parquet' : `${data.source.files} .psv files`}), ${data.patients.length} stays${subsetDescription(data)}`,
        file: basename(data.source.path),
        sha256: data.source.sha256,
        patients: data.patients.length,
        rows: data.rows,
        // What redraws the subset (its patients and parts) from the same file: alerts:replay's --split validation.
        ...(data.reference
          ? { subset: { ...data.reference.draw, referenceSeed: data.reference.seed, referenceFractions: data.reference.fractions, referenceSha256: data.source.sha256 } }
          : {}),
      },
      label: { ...SEPSIS_LABEL },
      alarm: { threshold: alarm.threshold, rule: 'highest normalised Challenge utility on the validation patients', validationUtility: Math.round(alarm.utility.normalized * 10000) / 10000 },
      bandBudget: { medium: `NEWS2 ≥ 5's alert rate on validation patients (${pct(mediumRate)} of hours)`, high: `NEWS2 ≥ 7's alert rate on validation patients (${pct(highRate)} of hours)`, validationRates: { medium: mediumRate, high: highRate } },
    },
    data,
    split,
    data.reference?.seed ?? seed,
    data.reference?.choicePatients,
  );

  progress.stage?.('evaluating on the test patients');
  const t1 = performance.now();
  const evaluation = evaluateClinicalRows({
    model,
    data,
    rows: split.test,
    columns: Array.from({ length: data.cols }, (_, j) => j),
    alarmThreshold: artifact.alarm!.threshold,
    subgroups: demographicSubgroups(data.demographics),
    bootstrap,
    seed,
  });
  timings.push({ label: `evaluation (${split.test.length} test rows, ${bootstrap} patient resamples)`, seconds: secondsSince(t1) });

  progress.stage?.('writing');
  const reportPath = outputPath(options.report, options.out, 'report.html');
  const jsonPath = outputPath(options.json, options.out, 'evaluation.json');
  const evaluatedOn = `test split: ${split.test.length} hours of ${split.patients.test.length} patients never seen in training or validation${splitCaveat(data, options.split ?? PHYSIONET_SPLIT, seed)}`;
  const summary = { model: { name: artifact.name, version: artifact.version, contentHash: artifact.contentHash }, provenance: artifact.provenance, label: artifact.label, alarm: artifact.alarm, bands: { medium: artifact.bands?.medium, high: artifact.bands?.high, budget: artifact.bandBudget }, hyperparameters: artifact.hyperparameters, tuning, evaluatedOn, splits, timings, evaluation };
  await writeModelOutputs({
    modelPath: options.out,
    artifact,
    json: jsonPath ? { path: jsonPath, value: summary } : null,
    report: reportPath
      ? {
          path: reportPath,
          render: () =>
            renderClinicalReport({
              title: 'Severity model on real ICU patients (PhysioNet/CinC 2019)',
              artifact,
              importance: model.featureImportance(),
              evaluatedOn,
              evaluation,
              splits,
              timings,
              notes: [
                ...(tuning ? [`Forest chosen by ${tuning.folds}-fold cross-validation on the training patients (${tuning.trees} trees per candidate, pooled hourly AUROC): ${tuning.rows.map((r) => `${describeCandidate(r.candidate)} → ${r.auroc.toFixed(4)}`).join('; ')}.`] : []),
                'Every choice (calibration, band thresholds, alarm threshold) was made on the validation patients; the test patients were only scored.',
                'NEWS2 here is what these data allow: no consciousness level (no GCS in the data, scored as missing, adding 0) and oxygen known only where FiO2 was charted.',
                'qSOFA likewise has no mentation item: RR ≥ 22 and SBP ≤ 100 only (0–2).',
              ],
              reproduce: options.reproduce ?? null,
            }),
        }
      : null,
  });
  return { artifact, model, modelPath: options.out, reportPath, jsonPath, evaluation, dataset: data, split, splits, timings, tuning };
}
