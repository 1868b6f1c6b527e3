// Training on real ICU data (PhysioNet/CinC 2019): hourly rows from the feature service's
// own engine, a seeded patient split (train / validation / test), the forest grown on the
// train patients, and every choice made on the validation patients — isotonic calibration,
// band thresholds at NEWS2 ≥ 5's and ≥ 7's alert rates, the alarm threshold with the best
// Challenge utility — so the test patients are only ever scored.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  saveModelArtifact,
  seenPatientsOf,
  trainSeverityModel,
  withArtifactFields,
  modelFromArtifact,
  type CalibrationMethod,
  type ModelArtifact,
  type SeverityModel,
} from '@ehr/model';
import { evaluateClinically, type ClinicalEvaluation } from './clinical-evaluation.js';
import { bestUtilityThreshold, rowUtilities } from './challenge-utility.js';
import { loadPhysioNetDataset, type HourlyDataset } from './physionet-data.js';
import { column, demographicSubgroups, denseRows, predictRows } from './real-data.js';
import { renderClinicalReport } from './clinical-report.js';
import { splitByPatient, type SplitFractions } from './split.js';
import { describeCandidate, tuneForest, type ForestCandidate, type TuningResult } from './forest-tuning.js';
import { DEFAULT_MODEL_NAME, type ForestSettings, type TrainingProgress } from './train.js';

/**
 * The forest for real hourly data: the balanced bootstrap (3 negatives per positive), 500 trees,
 * and the features per split, depth and leaf size that 3-fold cross-validation on the training
 * patients chose (`--tune`; README.md has both rounds' tables). `npm run train -- --physionet`
 * without --tune grows this one.
 */
export const PHYSIONET_FOREST: ForestSettings = { nTrees: 500, maxDepth: 28, maxFeatures: 0.1, minSamplesLeaf: 10, classWeight: null, balancedBootstrap: 3 };
export const PHYSIONET_SPLIT: SplitFractions = { train: 0.6, validation: 0.2, test: 0.2 };
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
  /** A seeded subset of this many stays (default all). */
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
  splits: { name: string; rows: number; patients: number; positives: number; eventPatients: number }[];
  timings: { label: string; seconds: number }[];
}

function rate(values: Float64Array, threshold: number): number {
  let n = 0;
  for (const v of values) if (v >= threshold) n++;
  return n / Math.max(1, values.length);
}

export async function trainOnPhysioNet(options: PhysioNetTrainingOptions): Promise<PhysioNetTrainingResult> {
  const progress = options.progress ?? {};
  const seed = options.seed ?? 1;
  const timings: { label: string; seconds: number }[] = [];
  progress.stage?.('reading and featurizing');
  const data =
    options.dataset ??
    (await loadPhysioNetDataset(options.path, {
      seed,
      ...(options.stays !== undefined ? { stays: options.stays } : {}),
      ...(options.warn ? { warn: options.warn } : {}),
      ...(progress.events ? { onProgress: (done: number, total: number) => progress.events!(done, total) } : {}),
    }));
  if (!data.hasLabels) throw new Error(`${options.path}: no SepsisLabel column, nothing to learn`);
  timings.push({ label: `read (${data.source.kind}, ${data.patients.length} stays)`, seconds: data.stats.readSeconds });
  timings.push({ label: `features (${data.stats.events} events → ${data.rows} hourly rows × ${data.cols})`, seconds: data.stats.featureSeconds });

  const fractions = options.split ?? PHYSIONET_SPLIT;
  const split = splitByPatient(data.patientOf, data.y, data.patients.length, fractions, seed);
  const parts = [
    ['train', split.train, split.patients.train],
    ['validation', split.validation, split.patients.validation],
    ['test', split.test, split.patients.test],
  ] as const;
  const splits = parts.map(([name, rows, patients]) => {
    let positives = 0;
    for (const i of rows) positives += data.y[i]!;
    const events = new Set<number>();
    for (const i of rows) if (data.y[i] === 1) events.add(data.patientOf[i]!);
    return { name, rows: rows.length, patients: patients.length, positives, eventPatients: events.size };
  });
  for (const s of splits) if (s.positives === 0) throw new Error(`the ${s.name} split has no positive hour (${data.patients.length} stays): use more stays`);

  // Band budgets: NEWS2's alert rates on the validation patients.
  const valNews2 = column(data.X, data.cols, split.validation, 'news2_total');
  const mediumRate = rate(valNews2, 5);
  const highRate = rate(valNews2, 7);

  progress.stage?.('training');
  const t0 = performance.now();
  const trainRows = denseRows(data.X, data.cols, split.train);
  const trainY = Uint8Array.from(split.train, (i) => data.y[i]!);
  const valRows = denseRows(data.X, data.cols, split.validation);
  const valY = Uint8Array.from(split.validation, (i) => data.y[i]!);
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
    timings.push({ label: `cross-validation on the training patients (${tuning.rows.length} candidates × ${tuning.folds} folds, ${tuning.trees} trees)`, seconds: (performance.now() - tt) / 1000 });
  }
  const trained = await trainSeverityModel({
    name: options.name ?? `${DEFAULT_MODEL_NAME}-physionet`,
    X: trainRows,
    y: trainY,
    featureNames: data.featureNames,
    featureSchemaVersion: data.featureSetVersion,
    forest: { ...forest, ...(progress.trees ? { onProgress: progress.trees } : {}) },
    seed,
    validation: { X: valRows, y: valY },
    calibration: options.calibration ?? 'isotonic',
    strictCalibration: true,
    // The lowest thresholds flagging no more validation hours than NEWS2 ≥ 5 and ≥ 7 do.
    bands: { rule: 'alertRate', medium: Math.max(mediumRate, 1e-6), high: Math.max(Math.min(highRate, mediumRate), 1e-6) },
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
  timings.push({ label: `forest (${forest.nTrees} trees on ${trainRows.rows} rows of ${split.patients.train.length} patients), calibration and bands on ${valRows.rows} validation rows`, seconds: (performance.now() - t0) / 1000 });

  // The alarm threshold: best Challenge utility on the validation patients.
  const valP = trained.model.predictProbaBatch(valRows.data);
  const valUtility = rowUtilities(valY, Uint32Array.from(split.validation, (i) => data.patientOf[i]!), Uint16Array.from(split.validation, (i) => data.hourOf[i]!));
  const alarm = bestUtilityThreshold(valUtility, valP);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const artifact = withArtifactFields(trained.artifact, {
    provenance: {
      source: 'physionet',
      description: `PhysioNet/CinC 2019 training set B (${data.source.kind === 'parquet' ? 'packed parquet' : `${data.source.files} .psv files`}), ${data.patients.length} stays${options.stays !== undefined ? ` (seeded subset, seed ${seed})` : ''}`,
      file: basename(data.source.path),
      sha256: data.source.sha256,
      patients: data.patients.length,
      rows: data.rows,
      split: { seed, train: split.patients.train.length, validation: split.patients.validation.length, test: split.patients.test.length },
    },
    label: { ...SEPSIS_LABEL },
    alarm: { threshold: alarm.threshold, rule: 'highest normalised Challenge utility on the validation patients', validationUtility: Math.round(alarm.utility.normalized * 10000) / 10000 },
    bandBudget: { medium: `NEWS2 ≥ 5's alert rate on validation patients (${pct(mediumRate)} of hours)`, high: `NEWS2 ≥ 7's alert rate on validation patients (${pct(highRate)} of hours)`, validationRates: { medium: mediumRate, high: highRate } },
    seenPatients: seenPatientsOf([...split.patients.train, ...split.patients.validation].map((p) => data.patients[p]!)),
  });
  const model = modelFromArtifact(artifact);

  progress.stage?.('evaluating on the test patients');
  const t1 = performance.now();
  const testIdx = split.test;
  const columns = Array.from({ length: data.cols }, (_, j) => j);
  const evaluation = evaluateClinically({
    y: Uint8Array.from(testIdx, (i) => data.y[i]!),
    patientOf: Uint32Array.from(testIdx, (i) => data.patientOf[i]!),
    hourOf: Uint16Array.from(testIdx, (i) => data.hourOf[i]!),
    probability: predictRows(model, data.X, data.cols, testIdx, columns),
    news2: column(data.X, data.cols, testIdx, 'news2_total'),
    qsofa: column(data.X, data.cols, testIdx, 'qsofa'),
    alarmThreshold: artifact.alarm!.threshold,
    bands: artifact.bands,
    subgroups: demographicSubgroups(data.demographics),
    bootstrap: options.bootstrap ?? 200,
    seed,
  });
  timings.push({ label: `evaluation (${testIdx.length} test rows, ${options.bootstrap ?? 200} patient resamples)`, seconds: (performance.now() - t1) / 1000 });

  progress.stage?.('writing');
  await mkdir(dirname(options.out), { recursive: true });
  await saveModelArtifact(options.out, artifact);
  const reportPath = options.report === undefined ? join(dirname(options.out), 'report.html') : options.report;
  const jsonPath = options.json === undefined ? join(dirname(options.out), 'evaluation.json') : options.json;
  const summary = { model: { name: artifact.name, version: artifact.version, contentHash: artifact.contentHash }, provenance: artifact.provenance, label: artifact.label, alarm: artifact.alarm, bands: { medium: artifact.bands?.medium, high: artifact.bands?.high, budget: artifact.bandBudget }, hyperparameters: artifact.hyperparameters, tuning, evaluatedOn: `test split: ${testIdx.length} hours of ${split.patients.test.length} patients never seen in training or validation`, splits, timings, evaluation };
  if (jsonPath) {
    await mkdir(dirname(jsonPath), { recursive: true });
    await writeFile(jsonPath, JSON.stringify(summary, null, 1) + '\n');
  }
  if (reportPath) {
    await mkdir(dirname(reportPath), { recursive: true });
    await writeFile(
      reportPath,
      renderClinicalReport({
        title: 'Severity model on real ICU patients (PhysioNet/CinC 2019)',
        artifact,
        importance: model.featureImportance(),
        evaluatedOn: summary.evaluatedOn,
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
    );
  }
  return { artifact, model, modelPath: options.out, reportPath, jsonPath, evaluation, dataset: data, splits, timings, tuning };
}
