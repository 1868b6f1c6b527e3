// `npm run train -- --evaluate <model>`: an existing artifact scored on every labelled row of
// an event source (e.g. the synthetic default on the MIMIC-IV demo) of a patient it never saw,
// against NEWS2, with the event-row report.
import { performance } from 'node:perf_hooks';
import { loadModelArtifact, type SeverityModel } from '@ehr/model';
import { DEFAULT_LABEL, labelledDataset, type DataSource, type Dataset, type LabelSpec } from './dataset.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { secondsSince, type TrainingProgress } from './fit.js';
import { writeText } from './outputs.js';
import { renderReport } from './report.js';
import { featuresTiming, fewPatientsNote, reportData, reportModel } from './report-input.js';
import { column, labelsOf, modelColumns, predictRows } from './rows.js';
import { unseenNote, unseenRows } from './unseen.js';

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
  const data = await labelledDataset(options.source, label, progress, options.dataset);
  // The model's columns, in its order, from the served feature set.
  const columns = modelColumns(model, data.featureNames, data.featureSetVersion);
  // Only patients the model never saw: `--evaluate` on the source it was trained on reports
  // its held-out patients, not figures partly learnt from the answers.
  const unseen = unseenRows(model, data, data.sourceDescription);
  const rows = unseen.rows;
  const patients = new Set(rows.map((i) => data.patientOf[i]!)).size;
  progress.stage?.('evaluating');
  const t0 = performance.now();
  const evaluation = evaluate({
    y: labelsOf(data.y, rows),
    probability: predictRows(model, data.X, data.cols, rows, columns),
    rawProbability: predictRows(model, data.X, data.cols, rows, columns, true),
    news2: column(data.X, data.cols, rows, 'news2_total'),
    patientOf: Uint32Array.from(rows, (i) => data.patientOf[i]!),
    bands: model.bands,
    news2Validation: null,
    bootstrap: options.bootstrap ?? 1000,
    seed: options.seed ?? 0,
  });
  let positives = 0;
  for (const i of rows) positives += data.y[i]!;
  const notes = [
    `The model was trained on ${model.artifact.training.rows} rows; every labelled row here of a patient it never saw is a test row (${rows.length} rows of ${patients} patients). ${unseenNote(unseen)}`,
    'NEWS2\'s event-rate mapping is fitted on these same rows (in-sample), which favours NEWS2 on Brier score and ECE; the model\'s calibration comes from its own validation data.',
    ...fewPatientsNote(patients, evaluation.patientsWithPositives, 200),
  ];
  if (label.kind === 'threshold') notes.unshift('Threshold labels: the forest relearns the rule from the same vitals; these figures say nothing about outcomes.');
  await writeText(
    options.report,
    renderReport({
      title: 'Severity model: external evaluation',
      model: reportModel(model.artifact, model),
      data: reportData(data, [{ name: unseen.excluded.size ? 'evaluated (patients the model never saw)' : 'evaluated (all)', rows: rows.length, patients, positives }]),
      evaluatedOn: `every labelled row of ${data.sourceDescription}${unseen.excluded.size ? ` of a patient the model never saw (${unseen.excluded.size} left out)` : ''}`,
      evaluation,
      timings: [featuresTiming(data), { label: 'evaluation (bootstrap)', seconds: secondsSince(t0) }],
      notes,
      reproduce: null,
    }),
  );
  return { model, evaluation, dataset: data, reportPath: options.report };
}
