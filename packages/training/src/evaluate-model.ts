// `npm run train -- --evaluate <model>`: an existing artifact scored on every labelled row of
// an event source (e.g. the synthetic default on the MIMIC-IV demo) against NEWS2, with the
// event-row report.
import { performance } from 'node:perf_hooks';
import { loadModelArtifact, type SeverityModel } from '@ehr/model';
import { DEFAULT_LABEL, labelledDataset, type DataSource, type Dataset, type LabelSpec } from './dataset.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { secondsSince, type TrainingProgress } from './fit.js';
import { writeText } from './outputs.js';
import { renderReport } from './report.js';
import { featuresTiming, fewPatientsNote, reportData, reportModel } from './report-input.js';
import { allRows, column, modelColumns, predictRows } from './rows.js';

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

/** Scores every labelled row of a source with an existing model against NEWS2. */
export async function evaluateModel(options: EvaluateOptions): Promise<EvaluateResult> {
  const progress = options.progress ?? {};
  const label = options.label ?? DEFAULT_LABEL;
  const model = await loadModelArtifact(options.model);
  progress.stage?.('reading and featurizing');
  const data = await labelledDataset(options.source, label, progress.events, options.dataset);
  // The model's columns, in its order, from the served feature set.
  const columns = modelColumns(model, data.featureNames, data.featureSetVersion);
  const rows = allRows(data.rows);
  progress.stage?.('evaluating');
  const t0 = performance.now();
  const evaluation = evaluate({
    y: data.y,
    probability: predictRows(model, data.X, data.cols, rows, columns),
    rawProbability: predictRows(model, data.X, data.cols, rows, columns, true),
    news2: column(data.X, data.cols, rows, 'news2_total'),
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
    ...fewPatientsNote(data.patients.length, evaluation.patientsWithPositives, 200),
  ];
  if (label.kind === 'threshold') notes.unshift('Threshold labels: the forest relearns the rule from the same vitals; these figures say nothing about outcomes.');
  await writeText(
    options.report,
    renderReport({
      title: 'Severity model: external evaluation',
      model: reportModel(model.artifact, model),
      data: reportData(data, [{ name: 'evaluated (all)', rows: data.rows, patients: data.patients.length, positives }]),
      evaluatedOn: `every labelled row of ${data.sourceDescription}`,
      evaluation,
      timings: [featuresTiming(data), { label: 'evaluation (bootstrap)', seconds: secondsSince(t0) }],
      notes,
      reproduce: null,
    }),
  );
  return { model, evaluation, dataset: data, reportPath: options.report };
}
