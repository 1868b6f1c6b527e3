// `npm run evaluate`: an existing model on a data file, always on patients it never saw
// (the artifact lists the patients it was trained or tuned on, or that a choice behind it was
// made on; their rows are left out),
// against NEWS2 and qSOFA on the same rows, written as JSON and as the HTML report.
// PhysioNet data (parquet or .psv directory) is labelled with SepsisLabel and scored every
// hour; a MEDS file (the MIMIC-IV demo) with death or ICU transfer within the horizon and
// scored at every event, as the feature service emits vectors.
import { existsSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DEFAULT_HORIZON_HOURS, parquetColumnNames } from '@ehr/cohort';
import { featureIndex } from '@ehr/features';
import { loadModelArtifact, type SeverityModel } from '@ehr/model';
import type { ClinicalEvaluation, Subgroup } from './clinical-evaluation.js';
import { evaluateClinicalRows } from './clinical-rows.js';
import type { TrainingProgress } from './fit.js';
import { renderClinicalReport } from './clinical-report.js';
import { buildDataset } from './dataset.js';
import { loadPhysioNetDataset } from './physionet-data.js';
import { writeJson, writeText } from './outputs.js';
import { AGE_BANDS, ageBand, demographicSubgroups } from './real-data.js';
import { modelColumns } from './rows.js';
import { unseenNote, unseenRows, type UnseenRows } from './unseen.js';

export type DataKind = 'physionet' | 'meds';

/** The `gender` feature's codes (GENDER_CODES of @ehr/features). */
const SEX_CODES = new Map<number, string>([
  [1, 'female'],
  [2, 'male'],
]);

/** A directory or .psv file is PhysioNet; a parquet is PhysioNet with patient_id, MEDS with subject_id and code. */
export async function detectDataKind(path: string): Promise<DataKind> {
  if (!existsSync(path)) throw new Error(`data not found: ${path}`);
  if (statSync(path).isDirectory() || path.toLowerCase().endsWith('.psv')) return 'physionet';
  const names = new Set(await parquetColumnNames(path));
  if (names.has('patient_id') && names.has('SepsisLabel')) return 'physionet';
  if (names.has('subject_id') && names.has('code')) return 'meds';
  if (names.has('patient_id')) return 'physionet';
  throw new Error(`${path}: neither the PhysioNet layout (patient_id, hour, HR, …, SepsisLabel) nor MEDS (subject_id, time, code, value)`);
}

export interface EvaluateDataOptions {
  model: string;
  data: string;
  kind?: DataKind;
  /** JSON output (default: none). */
  json?: string | null;
  /** HTML report (default: none). */
  report?: string | null;
  /** MEDS: hours ahead for death or ICU transfer (default 12). */
  horizonHours?: number;
  /** MEDS: death in hospital only (default: death or ICU transfer, the issue's label). */
  deathOnly?: boolean;
  bootstrap?: number;
  seed?: number;
  warn?: (message: string) => void;
  onStage?: (name: string) => void;
  /** Featurizing counts (stays of PhysioNet, events of MEDS). */
  progress?: Pick<TrainingProgress, 'events' | 'stays'>;
}

export interface EvaluateDataResult {
  model: SeverityModel;
  kind: DataKind;
  evaluation: ClinicalEvaluation;
  /** Patients left out because the model was trained or tuned on them, or a choice behind it was made on them (the artifact's seenPatients). */
  excludedPatients: number;
  evaluatedOn: string;
  labelDescription: string;
  json: unknown;
}

/** An artifact that does not say whom it saw cannot be evaluated on unseen patients only: said, not refused. */
function warnUnlisted(unseen: UnseenRows, warn: ((message: string) => void) | undefined): void {
  if (!unseen.known) warn?.(unseenNote(unseen));
}

export async function evaluateOnData(options: EvaluateDataOptions): Promise<EvaluateDataResult> {
  const model = await loadModelArtifact(options.model);
  const kind = options.kind ?? (await detectDataKind(options.data));
  const stage = options.onStage ?? (() => undefined);
  const bootstrap = options.bootstrap ?? 200;
  const seed = options.seed ?? 1;
  const t0 = performance.now();
  let result: Omit<EvaluateDataResult, 'json' | 'model' | 'kind'> & { rows: number; patients: number };
  if (kind === 'physionet') {
    stage('reading and featurizing (PhysioNet)');
    const data = await loadPhysioNetDataset(options.data, { ...(options.warn ? { warn: options.warn } : {}), ...(options.progress?.stays ? { onProgress: options.progress.stays } : {}) });
    if (!data.hasLabels) throw new Error(`${options.data}: no SepsisLabel column, nothing to evaluate against`);
    const unseen = unseenRows(model, data, options.data);
    warnUnlisted(unseen, options.warn);
    const { rows: keep, excluded } = unseen;
    stage('scoring and evaluating');
    const evaluation = evaluateClinicalRows({
      model,
      data,
      rows: keep,
      columns: modelColumns(model, data.featureNames, data.featureSetVersion),
      alarmThreshold: model.artifact.alarm?.threshold ?? null,
      subgroups: demographicSubgroups(data.demographics),
      bootstrap,
      seed,
    });
    const patients = new Set(keep.map((i) => data.patientOf[i]!)).size;
    result = {
      evaluation,
      excludedPatients: excluded.size,
      rows: keep.length,
      patients,
      evaluatedOn: `${keep.length} hours of ${patients} stays in ${options.data}${excluded.size ? ` (${excluded.size} stays the model was trained or tuned on, or that a choice behind it was made on, left out)` : ''}`,
      labelDescription: 'SepsisLabel (PhysioNet/CinC 2019): 1 from 6 h before the onset of sepsis',
    };
  } else {
    stage('reading and featurizing (MEDS)');
    const horizon = options.horizonHours ?? DEFAULT_HORIZON_HOURS;
    const data = await buildDataset({ kind: 'meds', file: options.data }, { kind: 'outcome', horizonHours: horizon, icuTransfer: options.deathOnly !== true }, { onEvents: options.progress?.events, warn: options.warn });
    const unseen = unseenRows(model, data, options.data);
    warnUnlisted(unseen, options.warn);
    stage('scoring and evaluating');
    const first = new Map<number, number>();
    for (let i = 0; i < data.rows; i++) if (!first.has(data.patientOf[i]!)) first.set(data.patientOf[i]!, i);
    const at = (p: number, name: string) => data.X[first.get(p)! * data.cols + featureIndex(name)]!;
    const subgroups: Subgroup[] = [
      { name: 'sex', of: (p) => SEX_CODES.get(at(p, 'gender')) ?? 'unknown' },
      { name: 'age', of: (p) => ageBand(at(p, 'age')), order: AGE_BANDS.map((b) => b.label) },
    ];
    const evaluation = evaluateClinicalRows({
      model,
      data,
      rows: unseen.rows,
      columns: modelColumns(model, data.featureNames, data.featureSetVersion),
      alarmThreshold: model.artifact.alarm?.threshold ?? null,
      subgroups,
      bootstrap,
      seed,
    });
    const patients = new Set(unseen.rows.map((i) => data.patientOf[i]!)).size;
    result = {
      evaluation,
      excludedPatients: unseen.excluded.size,
      rows: unseen.rows.length,
      patients,
      evaluatedOn: `every labelled feature vector of ${data.sourceDescription} of a patient the model never saw: ${unseen.rows.length} vectors (one per accepted event) of ${patients} patients${unseen.excluded.size ? ` (${unseen.excluded.size} patients the model was trained or tuned on, or that a choice behind it was made on, left out)` : ''}`,
      labelDescription: data.labelDescription,
    };
  }
  const seconds = (performance.now() - t0) / 1000;
  const a = model.artifact;
  const json = {
    model: { name: a.name, version: a.version, contentHash: a.contentHash, trainedOn: a.provenance ?? null, label: a.label ?? null, alarm: a.alarm ?? null },
    data: { path: options.data, kind },
    label: result.labelDescription,
    evaluatedOn: result.evaluatedOn,
    excludedPatients: result.excludedPatients,
    seconds: Math.round(seconds * 10) / 10,
    evaluation: result.evaluation,
  };
  if (options.json) await writeJson(options.json, json);
  if (options.report) {
    await writeText(
      options.report,
      renderClinicalReport({
        title: `Severity model evaluated on ${kind === 'physionet' ? 'PhysioNet/CinC 2019 stays' : 'a MEDS file (cross-site)'}`,
        artifact: a,
        importance: model.featureImportance(),
        evaluatedOn: result.evaluatedOn,
        evaluation: result.evaluation,
        splits: [{ name: 'evaluated', rows: result.rows, patients: result.patients, positives: result.evaluation.positives, eventPatients: result.evaluation.eventPatients }],
        timings: [{ label: 'read, featurize, score, evaluate', seconds }],
        notes: [
          ...(kind === 'meds'
            ? [
                `Cross-site: the label here (${result.labelDescription}) is not the one the model learned (${a.label?.description ?? 'unknown'}); figures are reported as they come out.`,
                'MEDS rows are every vector the feature service emits (one per accepted event), not hourly; the Challenge utility and lead times need hourly sepsis labels and are not computed.',
                'Operating points use the thresholds the model chose on its own validation patients; their alert rates here differ.',
              ]
            : []),
          'NEWS2 and qSOFA come from the same feature vectors; where the data lack consciousness (PhysioNet has no GCS), those parts are missing and add 0.',
        ],
        reproduce: null,
      }),
    );
  }
  return { model, kind, evaluation: result.evaluation, excludedPatients: result.excludedPatients, evaluatedOn: result.evaluatedOn, labelDescription: result.labelDescription, json };
}
