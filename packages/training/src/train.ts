// The training pipeline: data source → feature rows (the service's own feature code) →
// labels → patient-level train/validation/test split → Random Forest (calibrated and banded
// on the validation patients) → artifact, HTML report against NEWS2 on the test patients,
// and optionally the ml-random-forest export.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { featureIndex } from '@ehr/features';
import {
  auroc,
  modelFromArtifact,
  seenPatientsOf,
  withArtifactFields,
  type ArtifactLabel,
  type ArtifactProvenance,
  exportMlRandomForest,
  loadModelArtifact,
  saveModelArtifact,
  trainSeverityModel,
  type BandRule,
  type CalibrationMethod,
  type ForestOptions,
  type ModelArtifact,
  type SeverityModel,
} from '@ehr/model';
import { buildDataset, DEFAULT_LABEL, selectRows, type DataSource, type Dataset, type LabelSpec } from './dataset.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { renderReport, type ReportInput, type SplitSummary } from './report.js';
import { DEFAULT_SPLIT, patientFolds, splitByPatient, type SplitFractions } from './split.js';

export const DEFAULT_MODEL_NAME = 'severity-rf';

export type ForestSettings = Pick<ForestOptions, 'nTrees' | 'maxDepth' | 'maxFeatures' | 'minSamplesLeaf' | 'minSamplesSplit' | 'maxBins' | 'classWeight' | 'balancedBootstrap' | 'maxSamples' | 'workers'>;

export const DEFAULT_FOREST: ForestSettings = { nTrees: 200, maxDepth: 12, maxFeatures: 'sqrt', minSamplesLeaf: 5 };

/** Progress callbacks (the CLI draws a bar; npm start prints lines). */
export interface TrainingProgress {
  stage?: (name: string) => void;
  events?: (done: number, total: number | null) => void;
  trees?: (done: number, total: number) => void;
}

export interface TrainingOptions {
  source: DataSource;
  label?: LabelSpec;
  /** Model artifact path (.json, or .json.gz). */
  out: string;
  /** HTML report path; default report.html beside the model; null = none. */
  report?: string | null;
  /** ml-random-forest JSON path; null = no export. */
  exportMlRandomForest?: string | null;
  /** Seeds the split and the forest (default 0). */
  seed?: number;
  split?: SplitFractions;
  forest?: ForestSettings;
  calibration?: CalibrationMethod;
  bands?: BandRule;
  /** Patient-level bootstrap resamples for the report's intervals (default 200; 0 = none). */
  bootstrap?: number;
  name?: string;
  /** The command that reproduces this run, shown in the report. */
  reproduce?: string | null;
  /** createdAt of the artifact (default SOURCE_DATE_EPOCH, else now). */
  createdAt?: string;
  progress?: TrainingProgress;
  /** Already built rows (skips reading and featurizing the source). */
  dataset?: Dataset;
}

export interface TrainingResult {
  artifact: ModelArtifact;
  model: SeverityModel;
  modelPath: string;
  reportPath: string | null;
  exportPath: string | null;
  evaluation: Evaluation;
  dataset: Dataset;
  splits: SplitSummary[];
  timings: { label: string; seconds: number }[];
}

/** Where the rows came from, for the artifact (file name and hash, never the machine's path). */
export async function provenanceOf(source: DataSource, data: Dataset): Promise<ArtifactProvenance> {
  const base = { description: data.sourceDescription, patients: data.patients.length, rows: data.rows, split: null };
  if (source.kind === 'meds') return { ...base, source: 'meds', file: basename(source.file), sha256: createHash('sha256').update(await readFile(source.file)).digest('hex') };
  if (source.kind === 'cohort') return { ...base, source: 'cohort', file: basename(source.dir), sha256: null };
  return { ...base, source: 'synthetic', file: null, sha256: null };
}

export function labelFieldOf(label: LabelSpec, source: DataSource, data: Dataset): ArtifactLabel {
  if (label.kind === 'threshold') return { name: 'threshold_rule', description: data.labelDescription, horizonHours: 0 };
  const name = source.kind === 'meds' ? (label.icuTransfer ? 'death_or_icu_transfer' : 'death') : 'synthetic_outcome';
  return { name, description: data.labelDescription, horizonHours: label.horizonHours };
}

export function defaultReportPath(modelPath: string): string {
  return join(dirname(modelPath), 'report.html');
}

function summary(name: string, data: Dataset, rows: Uint32Array, patients: number[]): SplitSummary {
  let positives = 0;
  for (const i of rows) positives += data.y[i]!;
  return { name, rows: rows.length, patients: patients.length, positives };
}

function news2Column(X: Float64Array, cols: number, rows: number): Float64Array {
  const k = featureIndex('news2_total');
  return Float64Array.from({ length: rows }, (_, i) => X[i * cols + k]!);
}

function reportModel(artifact: ModelArtifact, model: SeverityModel): ReportInput['model'] {
  const { bands } = artifact;
  return {
    name: artifact.name,
    version: artifact.version,
    contentHash: artifact.contentHash,
    createdAt: artifact.createdAt,
    featureSchemaVersion: artifact.featureSchemaVersion,
    features: artifact.featureNames.length,
    seed: artifact.seed,
    hyperparameters: { ...artifact.hyperparameters },
    calibration: artifact.calibration.method,
    bands: bands ? { rule: bands.rule, medium: bands.medium, high: bands.high, targets: bands.targets } : null,
    importance: model.featureImportance(),
  };
}

export async function trainModel(options: TrainingOptions): Promise<TrainingResult> {
  const progress = options.progress ?? {};
  const label = options.label ?? DEFAULT_LABEL;
  const seed = options.seed ?? 0;
  const timings: { label: string; seconds: number }[] = [];

  progress.stage?.('reading and featurizing');
  const data = options.dataset ?? (await buildDataset(options.source, label, { onEvents: progress.events }));
  timings.push({ label: `features (${data.stats.events} events → ${data.rows} rows)`, seconds: data.stats.seconds });
  if (data.rows === 0) throw new Error(`no labelled rows from ${data.sourceDescription}`);

  const split = splitByPatient(data.patientOf, data.y, data.patients.length, options.split ?? DEFAULT_SPLIT, seed);
  const splits = [
    summary('train', data, split.train, split.patients.train),
    summary('validation', data, split.validation, split.patients.validation),
    summary('test', data, split.test, split.patients.test),
  ];
  for (const s of splits) {
    if (s.rows === 0 || s.positives === 0) throw new Error(`the ${s.name} split has ${s.rows} rows and ${s.positives} positives: too few patients with an outcome (${data.patients.length} patients in all); use a larger cohort or change --split`);
  }
  const train = selectRows(data, split.train);
  const validation = selectRows(data, split.validation);
  const test = selectRows(data, split.test);
  const dense = (s: { X: Float64Array; rows: number }) => ({ rows: s.rows, cols: data.cols, data: s.X });

  progress.stage?.('training');
  const t0 = performance.now();
  const trained = await trainSeverityModel({
    name: options.name ?? DEFAULT_MODEL_NAME,
    X: dense(train),
    y: train.y,
    featureNames: data.featureNames,
    featureSchemaVersion: data.featureSetVersion,
    forest: { ...DEFAULT_FOREST, ...options.forest, ...(progress.trees ? { onProgress: progress.trees } : {}) },
    seed,
    validation: { X: dense(validation), y: validation.y },
    test: { X: dense(test), y: test.y },
    ...(options.calibration ? { calibration: options.calibration } : {}),
    ...(options.bands ? { bands: options.bands } : {}),
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
  timings.push({ label: `training (${trained.artifact.hyperparameters.nTrees} trees on ${train.rows} rows, calibration, bands)`, seconds: (performance.now() - t0) / 1000 });
  const artifact = withArtifactFields(trained.artifact, {
    provenance: { ...(await provenanceOf(options.source, data)), split: { seed, train: split.patients.train.length, validation: split.patients.validation.length, test: split.patients.test.length } },
    label: labelFieldOf(label, options.source, data),
    seenPatients: seenPatientsOf([...split.patients.train, ...split.patients.validation].map((p) => data.patients[p]!)),
  });
  const model = modelFromArtifact(artifact);

  progress.stage?.('evaluating');
  const t1 = performance.now();
  const testPatients = Uint32Array.from(split.test, (i) => data.patientOf[i]!);
  const evaluation = evaluate({
    y: test.y,
    probability: model.predictProbaBatch(test.X),
    rawProbability: model.predictRawProbaBatch(test.X),
    news2: news2Column(test.X, data.cols, test.rows),
    patientOf: testPatients,
    bands: artifact.bands,
    news2Validation: { y: validation.y, news2: news2Column(validation.X, data.cols, validation.rows) },
    bootstrap: options.bootstrap ?? 200,
    seed,
  });
  timings.push({ label: 'evaluation (test rows, bootstrap)', seconds: (performance.now() - t1) / 1000 });

  progress.stage?.('writing');
  await mkdir(dirname(options.out), { recursive: true });
  await saveModelArtifact(options.out, artifact);
  let exportPath: string | null = null;
  if (options.exportMlRandomForest) {
    exportPath = options.exportMlRandomForest;
    await mkdir(dirname(exportPath), { recursive: true });
    await writeFile(exportPath, JSON.stringify(exportMlRandomForest(artifact)) + '\n');
  }
  const reportPath = options.report === undefined ? defaultReportPath(options.out) : options.report;
  if (reportPath) {
    const notes = trainingNotes(data, label, evaluation);
    const html = renderReport({
      title: 'Severity model: evaluation report',
      model: reportModel(artifact, model),
      data: { source: data.sourceDescription, label: data.labelDescription, splits, events: data.stats.events, vectors: data.stats.vectors, rejected: data.stats.rejected, unlabelled: data.stats.unlabelled },
      evaluatedOn: `the test split: ${splits[2]!.rows} rows of ${splits[2]!.patients} patients never seen in training or validation`,
      evaluation,
      timings,
      notes,
      reproduce: options.reproduce ?? null,
    });
    await mkdir(dirname(reportPath), { recursive: true });
    await writeFile(reportPath, html);
  }
  return { artifact, model, modelPath: options.out, reportPath: reportPath ?? null, exportPath, evaluation, dataset: data, splits, timings };
}

function trainingNotes(data: Dataset, label: LabelSpec, e: Evaluation): string[] {
  const notes: string[] = [];
  if (label.kind === 'threshold') notes.push('Threshold labels are a function of the latest vitals the features also contain: the forest relearns the rule, and its scores say nothing about outcomes. Use outcome labels to judge a model.');
  if (e.patients < 50) notes.push(`Only ${e.patients} test patients (${e.patientsWithPositives} with an event): the figures are uncertain; read the bootstrap intervals, not the point estimates.`);
  notes.push('Rows are every feature vector the feature service would emit (one per accepted event), so patients with more measurements weigh more; intervals resample whole patients.');
  if (data.stats.unlabelled > 0) notes.push(`${data.stats.unlabelled} vectors had no label (patient or admission unknown to the outcome data) and were left out.`);
  return notes;
}

export interface EvaluateOptions {
  source: DataSource;
  label?: LabelSpec;
  /** The artifact to evaluate. */
  model: string;
  report: string;
  bootstrap?: number;
  seed?: number;
  progress?: TrainingProgress;
  dataset?: Dataset;
}

export interface EvaluateResult {
  model: SeverityModel;
  evaluation: Evaluation;
  dataset: Dataset;
  reportPath: string;
}

/** Scores every labelled row of a source with an existing model (e.g. the synthetic default on MIMIC) against NEWS2. */
export async function evaluateModel(options: EvaluateOptions): Promise<EvaluateResult> {
  const progress = options.progress ?? {};
  const label = options.label ?? DEFAULT_LABEL;
  const model = await loadModelArtifact(options.model);
  progress.stage?.('reading and featurizing');
  const data = options.dataset ?? (await buildDataset(options.source, label, { onEvents: progress.events }));
  if (data.rows === 0) throw new Error(`no labelled rows from ${data.sourceDescription}`);
  // The model's columns, in its order, from the served feature set.
  const index = model.featureNames.map((n) => {
    const k = data.featureNames.indexOf(n);
    if (k < 0) throw new Error(`model ${options.model} needs feature '${n}', which the feature set ${data.featureSetVersion} does not have`);
    return k;
  });
  const X = new Float64Array(data.rows * index.length);
  for (let i = 0; i < data.rows; i++) for (let j = 0; j < index.length; j++) X[i * index.length + j] = data.X[i * data.cols + index[j]!]!;
  progress.stage?.('evaluating');
  const t0 = performance.now();
  const evaluation = evaluate({
    y: data.y,
    probability: model.predictProbaBatch(X),
    rawProbability: model.predictRawProbaBatch(X),
    news2: news2Column(data.X, data.cols, data.rows),
    patientOf: data.patientOf,
    bands: model.bands,
    news2Validation: null,
    bootstrap: options.bootstrap ?? 1000,
    seed: options.seed ?? 0,
  });
  const positives = data.y.reduce((a, b) => a + b, 0);
  const notes = [
    `The model was trained elsewhere (${model.artifact.training.rows} rows); every labelled row here is a test row (${data.rows} rows of ${data.patients.length} patients).`,
    'NEWS2\'s event-rate mapping is fitted on these same rows (in-sample), which favours NEWS2 on Brier score and ECE; the model\'s calibration comes from its own validation data.',
    ...(data.patients.length < 200 ? [`Only ${data.patients.length} patients (${evaluation.patientsWithPositives} with an event): read the bootstrap intervals, not the point estimates.`] : []),
  ];
  if (label.kind === 'threshold') notes.unshift('Threshold labels: the forest relearns the rule from the same vitals; these figures say nothing about outcomes.');
  const html = renderReport({
    title: 'Severity model: external evaluation',
    model: reportModel(model.artifact, model),
    data: { source: data.sourceDescription, label: data.labelDescription, splits: [{ name: 'evaluated (all)', rows: data.rows, patients: data.patients.length, positives }], events: data.stats.events, vectors: data.stats.vectors, rejected: data.stats.rejected, unlabelled: data.stats.unlabelled },
    evaluatedOn: `every labelled row of ${data.sourceDescription}`,
    evaluation,
    timings: [
      { label: `features (${data.stats.events} events → ${data.rows} rows)`, seconds: data.stats.seconds },
      { label: 'evaluation (bootstrap)', seconds: (performance.now() - t0) / 1000 },
    ],
    notes,
    reproduce: null,
  });
  await mkdir(dirname(options.report), { recursive: true });
  await writeFile(options.report, html);
  return { model, evaluation, dataset: data, reportPath: options.report };
}

export interface CrossValidationOptions extends Omit<TrainingOptions, 'out' | 'report' | 'exportMlRandomForest' | 'split' | 'name' | 'createdAt'> {
  /** Patient folds (>= 3). */
  folds: number;
  report: string;
}

export interface CrossValidationResult {
  evaluation: Evaluation;
  dataset: Dataset;
  folds: { fold: number; testPatients: number; testRows: number; testPositives: number; auroc: number; news2Auroc: number }[];
  reportPath: string;
}

/**
 * k-fold cross-validation by patient, for small data sets (the MIMIC-IV demo's 100
 * patients): fold f is the test set of a model grown on the other folds but one, calibrated
 * and banded on that one (fold f + 1); every patient is scored once, by a model that never
 * saw them, and the pooled predictions are evaluated against NEWS2 as one test set. No
 * model is saved: train the deployable model with a plain split.
 */
export async function crossValidate(options: CrossValidationOptions): Promise<CrossValidationResult> {
  const progress = options.progress ?? {};
  const label = options.label ?? DEFAULT_LABEL;
  const seed = options.seed ?? 0;
  const k = options.folds;
  progress.stage?.('reading and featurizing');
  const data = options.dataset ?? (await buildDataset(options.source, label, { onEvents: progress.events }));
  if (data.rows === 0) throw new Error(`no labelled rows from ${data.sourceDescription}`);
  const fold = patientFolds(data.patientOf, data.y, data.patients.length, k, seed);
  const probability = new Float64Array(data.rows);
  const rawProbability = new Float64Array(data.rows);
  const news2 = news2Column(data.X, data.cols, data.rows);
  const folds: CrossValidationResult['folds'] = [];
  const t0 = performance.now();
  for (let f = 0; f < k; f++) {
    progress.stage?.(`fold ${f + 1}/${k}`);
    const rowsOf = (keep: (fp: number) => boolean) => Uint32Array.from(Array.from({ length: data.rows }, (_, i) => i).filter((i) => keep(fold[data.patientOf[i]!]!)));
    const testRows = rowsOf((fp) => fp === f);
    const valRows = rowsOf((fp) => fp === (f + 1) % k);
    const trainRows = rowsOf((fp) => fp !== f && fp !== (f + 1) % k);
    const train = selectRows(data, trainRows);
    const validation = selectRows(data, valRows);
    const test = selectRows(data, testRows);
    const dense = (s: { X: Float64Array; rows: number }) => ({ rows: s.rows, cols: data.cols, data: s.X });
    const { model } = await trainSeverityModel({
      name: `${DEFAULT_MODEL_NAME}-cv${f + 1}`,
      X: dense(train),
      y: train.y,
      featureNames: data.featureNames,
      featureSchemaVersion: data.featureSetVersion,
      forest: { ...DEFAULT_FOREST, ...options.forest, ...(progress.trees ? { onProgress: progress.trees } : {}) },
      seed,
      validation: { X: dense(validation), y: validation.y },
      ...(options.calibration ? { calibration: options.calibration } : {}),
      bands: null,
    });
    const p = model.predictProbaBatch(test.X);
    const raw = model.predictRawProbaBatch(test.X);
    testRows.forEach((i, k2) => {
      probability[i] = p[k2]!;
      rawProbability[i] = raw[k2]!;
    });
    const testNews2 = news2Column(test.X, data.cols, test.rows);
    const positives = test.y.reduce((a, b) => a + b, 0);
    const patients = new Set(Array.from(testRows, (i) => data.patientOf[i]!)).size;
    folds.push({ fold: f + 1, testPatients: patients, testRows: test.rows, testPositives: positives, auroc: positives > 0 && positives < test.rows ? auroc(test.y, p) : NaN, news2Auroc: positives > 0 && positives < test.rows ? auroc(test.y, testNews2) : NaN });
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  progress.stage?.('evaluating');
  const t1 = performance.now();
  const evaluation = evaluate({ y: data.y, probability, rawProbability, news2, patientOf: data.patientOf, bands: null, news2Validation: null, bootstrap: options.bootstrap ?? 1000, seed });
  const positives = data.y.reduce((a, b) => a + b, 0);
  const html = renderReport({
    title: `Severity model: ${k}-fold cross-validation by patient`,
    model: {
      name: `${DEFAULT_MODEL_NAME} (${k} fold models, none saved)`,
      version: '–',
      contentHash: '–',
      createdAt: new Date().toISOString(),
      featureSchemaVersion: data.featureSetVersion,
      features: data.cols,
      seed,
      hyperparameters: { ...DEFAULT_FOREST, ...options.forest },
      calibration: options.calibration ?? 'isotonic',
      bands: null,
      importance: [],
    },
    data: { source: data.sourceDescription, label: data.labelDescription, splits: folds.map((f) => ({ name: `fold ${f.fold}`, rows: f.testRows, patients: f.testPatients, positives: f.testPositives })), events: data.stats.events, vectors: data.stats.vectors, rejected: data.stats.rejected, unlabelled: data.stats.unlabelled },
    evaluatedOn: `every row of all ${data.patients.length} patients (${positives} positive rows), each scored by the fold model that never saw the patient`,
    evaluation,
    timings: [
      { label: `features (${data.stats.events} events → ${data.rows} rows)`, seconds: data.stats.seconds },
      { label: `${k} fold models`, seconds: trainSeconds },
      { label: 'evaluation (bootstrap)', seconds: (performance.now() - t1) / 1000 },
    ],
    notes: [
      `Per fold (AUROC model / NEWS2): ${folds.map((f) => `${f.fold}: ${Number.isFinite(f.auroc) ? f.auroc.toFixed(3) : '–'} / ${Number.isFinite(f.news2Auroc) ? f.news2Auroc.toFixed(3) : '–'}`).join(', ')}.`,
      'Each fold model is calibrated on the next fold\'s patients; pooled probabilities come from different models, so the pooled calibration is an average of theirs. No band thresholds: each fold model would have its own.',
      'NEWS2\'s event-rate mapping is fitted on the pooled rows themselves (in-sample), which favours NEWS2 on Brier score and ECE.',
      ...(data.patients.length < 200 ? [`Only ${data.patients.length} patients (${evaluation.patientsWithPositives} with an event): read the bootstrap intervals, not the point estimates.`] : []),
    ],
    reproduce: options.reproduce ?? null,
  });
  await mkdir(dirname(options.report), { recursive: true });
  await writeFile(options.report, html);
  return { evaluation, dataset: data, folds, reportPath: options.report };
}
