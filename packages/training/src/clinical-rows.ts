// The clinical evaluation of a model on chosen rows of a data set (the test patients after
// training; the patients it never saw in `npm run evaluate`): its predictions, NEWS2 and
// qSOFA read from the same vectors, at its own alarm and band thresholds, and the band the
// ward is served (the model's, never calmer than NEWS2's tier from the same vectors).
import type { SeverityModel } from '@ehr/model';
import { evaluateClinically, type ClinicalEvaluation, type Subgroup } from './clinical-evaluation.js';
import { column, labelsOf, news2FeaturesOf, predictRows } from './rows.js';

export interface ClinicalRowsInput {
  model: SeverityModel;
  /** Hourly data has `hourOf` (the Challenge's utility and lead times); event rows do not. */
  data: { X: Float32Array | Float64Array; cols: number; y: ArrayLike<number>; patientOf: ArrayLike<number>; hourOf?: ArrayLike<number> };
  rows: ArrayLike<number>;
  /** The model's columns in the data (modelColumns). */
  columns: readonly number[];
  alarmThreshold: number | null;
  subgroups: readonly Subgroup[];
  bootstrap: number;
  seed: number;
}

export function evaluateClinicalRows({ model, data, rows, columns, alarmThreshold, subgroups, bootstrap, seed }: ClinicalRowsInput): ClinicalEvaluation {
  const { hourOf } = data;
  return evaluateClinically({
    y: labelsOf(data.y, rows),
    patientOf: Uint32Array.from({ length: rows.length }, (_, k) => data.patientOf[rows[k]!]!),
    hourOf: hourOf ? Uint32Array.from({ length: rows.length }, (_, k) => hourOf[rows[k]!]!) : null,
    probability: predictRows(model, data.X, data.cols, rows, columns),
    news2: column(data.X, data.cols, rows, 'news2_total'),
    qsofa: column(data.X, data.cols, rows, 'qsofa'),
    alarmThreshold,
    bands: model.bands,
    news2Features: news2FeaturesOf(data.X, data.cols, rows),
    subgroups,
    bootstrap,
    seed,
  });
}
