// Training on event rows (a synthetic cohort, cohort CSVs or a MEDS file such as the MIMIC-IV
// demo): the source read through the feature service's own code and labelled (outcome within
// a horizon, or the threshold rule), then the shared fit (fit.ts), the model against NEWS2 on
// the test patients (evaluate.ts), and the shared writer (outputs.ts) for the artifact, the
// ml-random-forest export and the HTML report.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ArtifactLabel, ArtifactProvenance, BandRule, CalibrationMethod, ModelArtifact, SeverityModel } from '@ehr/model';
import { DEFAULT_LABEL, describeSource, labelledDataset, type DataSource, type Dataset, type LabelSpec } from './dataset.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { completeArtifact, DEFAULT_MODEL_NAME, fitModel, secondsSince, splitPatients, type ForestSettings, type Timings, type TrainingProgress } from './fit.js';
import { besideModel, outputPath, writeModelOutputs } from './outputs.js';
import { renderReport, type SplitSummary } from './report.js';
import { featuresTiming, reportData, reportModel } from './report-input.js';
import { column, labelsOf, modelColumns, predictRows } from './rows.js';
import { DEFAULT_SPLIT, type SplitFractions } from './split.js';

export const DEFAULT_FOREST: ForestSettings = { nTrees: 200, maxDepth: 12, maxFeatures: 'sqrt', minSamplesLeaf: 5 };

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
  timings: Timings;
}

/** Where the rows came from, for the artifact (file name and hash, never the machine's path). */
export async function provenanceOf(source: DataSource, data: Dataset): Promise<ArtifactProvenance> {
  // The description names the file, not where it sat on the machine that trained.
  const named: DataSource = source.kind === 'meds' ? { ...source, file: basename(source.file) } : source.kind === 'cohort' ? { ...source, dir: basename(source.dir) } : source;
  const base = { description: describeSource(named), patients: data.patients.length, rows: data.rows, split: null };
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
  return besideModel(modelPath, 'report.html');
}

export async function trainModel(options: TrainingOptions): Promise<TrainingResult> {
  const progress = options.progress ?? {};
  const label = options.label ?? DEFAULT_LABEL;
  const seed = options.seed ?? 0;
  const timings: Timings = [];

  progress.stage?.('reading and featurizing');
  const data = await labelledDataset(options.source, label, progress, options.dataset);
  timings.push(featuresTiming(data));

  const { split, parts: splits } = splitPatients(data, options.split ?? DEFAULT_SPLIT, seed);
  for (const s of splits) {
    if (s.rows === 0 || s.positives === 0) throw new Error(`the ${s.name} split has ${s.rows} rows and ${s.positives} positives: too few patients with an outcome (${data.patients.length} patients in all); use a larger cohort or change --split`);
  }

  progress.stage?.('training');
  const t0 = performance.now();
  const { trained } = await fitModel({
    name: options.name ?? DEFAULT_MODEL_NAME,
    data,
    // The artifact also records the test split's metrics (metrics.test), as it always has.
    rows: { train: split.train, validation: split.validation, test: split.test },
    forest: { ...DEFAULT_FOREST, ...options.forest },
    seed,
    progress,
    ...(options.calibration ? { calibration: options.calibration } : {}),
    ...(options.bands ? { bands: options.bands } : {}),
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  });
  timings.push({ label: `training (${trained.artifact.hyperparameters.nTrees} trees on ${splits[0]!.rows} rows, calibration, bands)`, seconds: secondsSince(t0) });
  const { artifact, model } = completeArtifact(trained.artifact, { provenance: await provenanceOf(options.source, data), label: labelFieldOf(label, options.source, data) }, data, split, seed);

  progress.stage?.('evaluating');
  const t1 = performance.now();
  const columns = modelColumns(model, data.featureNames, data.featureSetVersion);
  const evaluation = evaluate({
    y: labelsOf(data.y, split.test),
    probability: predictRows(model, data.X, data.cols, split.test, columns),
    rawProbability: predictRows(model, data.X, data.cols, split.test, columns, true),
    news2: column(data.X, data.cols, split.test, 'news2_total'),
    patientOf: Uint32Array.from(split.test, (i) => data.patientOf[i]!),
    bands: artifact.bands,
    news2Validation: { y: labelsOf(data.y, split.validation), news2: column(data.X, data.cols, split.validation, 'news2_total') },
    bootstrap: options.bootstrap ?? 200,
    seed,
  });
  timings.push({ label: 'evaluation (test rows, bootstrap)', seconds: secondsSince(t1) });

  progress.stage?.('writing');
  const reportPath = outputPath(options.report, options.out, 'report.html');
  const exportPath = options.exportMlRandomForest || null;
  await writeModelOutputs({
    modelPath: options.out,
    artifact,
    exportPath,
    report: reportPath
      ? {
          path: reportPath,
          render: () =>
            renderReport({
              title: 'Severity model: evaluation report',
              model: reportModel(artifact, model),
              data: reportData(data, splits),
              evaluatedOn: `the test split: ${splits[2]!.rows} rows of ${splits[2]!.patients} patients never seen in training or validation`,
              evaluation,
              timings,
              notes: trainingNotes(data, label, evaluation),
              reproduce: options.reproduce ?? null,
            }),
        }
      : null,
  });
  // The result's splits are what they always were: rows, patients and positives of each part.
  return { artifact, model, modelPath: options.out, reportPath, exportPath, evaluation, dataset: data, splits: splits.map(({ eventPatients: _e, ...s }) => s), timings };
}

function trainingNotes(data: Dataset, label: LabelSpec, e: Evaluation): string[] {
  const notes: string[] = [];
  if (label.kind === 'threshold') notes.push('Threshold labels are a function of the latest vitals the features also contain: the forest relearns the rule, and its scores say nothing about outcomes. Use outcome labels to judge a model.');
  if (e.patients < 50) notes.push(`Only ${e.patients} test patients (${e.patientsWithPositives} with an event): the figures are uncertain; read the bootstrap intervals, not the point estimates.`);
  notes.push('Rows are every feature vector the feature service would emit (one per accepted event), so patients with more measurements weigh more; intervals resample whole patients.');
  if (data.stats.unlabelled > 0) notes.push(`${data.stats.unlabelled} vectors had no label (patient or admission unknown to the outcome data) and were left out.`);
  return notes;
}
