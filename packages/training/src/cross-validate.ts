// k-fold cross-validation by patient, for small data sets (the MIMIC-IV demo's 100
// patients): fold f is the test set of a model grown on the other folds but one and
// calibrated on that one (fold f + 1), through the same fit as training; every patient is
// scored once, by a model that never saw them, and the pooled predictions are evaluated
// against NEWS2 as one test set. No model is saved: train the deployable one with a split.
import { performance } from 'node:perf_hooks';
import { auroc } from '@ehr/model';
import { DEFAULT_LABEL, labelledDataset, type Dataset } from './dataset.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { DEFAULT_MODEL_NAME, fitModel, secondsSince } from './fit.js';
import { writeText } from './outputs.js';
import { renderReport } from './report.js';
import { featuresTiming, fewPatientsNote, reportData } from './report-input.js';
import { allRows, column, labelsOf, predictRows } from './rows.js';
import { patientFolds } from './split.js';
import { DEFAULT_FOREST, type TrainingOptions } from './train.js';

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

export async function crossValidate(options: CrossValidationOptions): Promise<CrossValidationResult> {
  const progress = options.progress ?? {};
  const label = options.label ?? DEFAULT_LABEL;
  const seed = options.seed ?? 0;
  const k = options.folds;
  progress.stage?.('reading and featurizing');
  const data = await labelledDataset(options.source, label, progress, options.dataset);
  const fold = patientFolds(data.patientOf, data.y, data.patients.length, k, seed);
  const probability = new Float64Array(data.rows);
  const rawProbability = new Float64Array(data.rows);
  const news2 = column(data.X, data.cols, allRows(data.rows), 'news2_total');
  const columns = Array.from({ length: data.cols }, (_, j) => j);
  const folds: CrossValidationResult['folds'] = [];
  const t0 = performance.now();
  for (let f = 0; f < k; f++) {
    progress.stage?.(`fold ${f + 1}/${k}`);
    const rowsOf = (keep: (fp: number) => boolean) => Uint32Array.from(Array.from({ length: data.rows }, (_, i) => i).filter((i) => keep(fold[data.patientOf[i]!]!)));
    const testRows = rowsOf((fp) => fp === f);
    const { trained } = await fitModel({
      name: `${DEFAULT_MODEL_NAME}-cv${f + 1}`,
      data,
      rows: { train: rowsOf((fp) => fp !== f && fp !== (f + 1) % k), validation: rowsOf((fp) => fp === (f + 1) % k) },
      forest: { ...DEFAULT_FOREST, ...options.forest },
      seed,
      progress,
      ...(options.calibration ? { calibration: options.calibration } : {}),
      bands: null,
    });
    const p = predictRows(trained.model, data.X, data.cols, testRows, columns);
    const raw = predictRows(trained.model, data.X, data.cols, testRows, columns, true);
    testRows.forEach((i, k2) => {
      probability[i] = p[k2]!;
      rawProbability[i] = raw[k2]!;
    });
    const testY = labelsOf(data.y, testRows);
    const testNews2 = column(data.X, data.cols, testRows, 'news2_total');
    const positives = testY.reduce((a, b) => a + b, 0);
    const patients = new Set(Array.from(testRows, (i) => data.patientOf[i]!)).size;
    const ranked = positives > 0 && positives < testRows.length;
    folds.push({ fold: f + 1, testPatients: patients, testRows: testRows.length, testPositives: positives, auroc: ranked ? auroc(testY, p) : NaN, news2Auroc: ranked ? auroc(testY, testNews2) : NaN });
  }
  const trainSeconds = secondsSince(t0);
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
    data: reportData(data, folds.map((f) => ({ name: `fold ${f.fold}`, rows: f.testRows, patients: f.testPatients, positives: f.testPositives }))),
    evaluatedOn: `every row of all ${data.patients.length} patients (${positives} positive rows), each scored by the fold model that never saw the patient`,
    evaluation,
    timings: [featuresTiming(data), { label: `${k} fold models`, seconds: trainSeconds }, { label: 'evaluation (bootstrap)', seconds: secondsSince(t1) }],
    notes: [
      `Per fold (AUROC model / NEWS2): ${folds.map((f) => `${f.fold}: ${Number.isFinite(f.auroc) ? f.auroc.toFixed(3) : '–'} / ${Number.isFinite(f.news2Auroc) ? f.news2Auroc.toFixed(3) : '–'}`).join(', ')}.`,
      'Each fold model is calibrated on the next fold\'s patients; pooled probabilities come from different models, so the pooled calibration is an average of theirs. No band thresholds: each fold model would have its own.',
      'NEWS2\'s event-rate mapping is fitted on the pooled rows themselves (in-sample), which favours NEWS2 on Brier score and ECE.',
      ...fewPatientsNote(data.patients.length, evaluation.patientsWithPositives, 200),
    ],
    reproduce: options.reproduce ?? null,
  });
  await writeText(options.report, html);
  return { evaluation, dataset: data, folds, reportPath: options.report };
}
