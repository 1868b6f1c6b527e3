// Training rows from a data source through the real feature code (buildTrainingRows: the
// same cleaning, reducer, emission policy and featurize as the feature service), one row
// per emitted vector, labelled and tagged with its patient.
import { performance } from 'node:perf_hooks';
import { cohortPatients, cohortStream, DEFAULT_HORIZON_HOURS, readCohort, readMeds, type CohortOptions } from '@ehr/cohort';
import { buildTrainingRows, type RawEvent, type TrainingRowMeta } from '@ehr/features';
import type { TrainingProgress } from './fit.js';
import { cohortOutcomeLabeler, describeThresholdRule, medsDeathLabeler, medsDeathOrIcuLabeler, thresholdLabeler, type ThresholdRule } from './labels.js';

export type DataSource =
  | { kind: 'synthetic'; seed: number; patients: number; hours: number; deteriorationRate?: number; artefactRate?: number }
  | { kind: 'cohort'; dir: string }
  | { kind: 'meds'; file: string };

export type LabelSpec = { kind: 'outcome'; horizonHours: number; /** MEDS: also an ICU transfer (the real-data label), not only death. */ icuTransfer?: boolean } | { kind: 'threshold'; rule: ThresholdRule };

export const DEFAULT_LABEL: LabelSpec = { kind: 'outcome', horizonHours: DEFAULT_HORIZON_HOURS };

export interface Dataset {
  sourceDescription: string;
  labelDescription: string;
  featureNames: readonly string[];
  featureSetVersion: string;
  rows: number;
  cols: number;
  /** Row-major, NaN = missing. */
  X: Float64Array;
  y: Uint8Array;
  /** Index into `patients` of each row's patient. */
  patientOf: Uint32Array;
  /** Patient ids (first-seen order). */
  patients: string[];
  meta: TrainingRowMeta[];
  stats: {
    events: number;
    vectors: number;
    /** Vectors left out because no label could be given (patient or admission unknown). */
    unlabelled: number;
    duplicates: number;
    rejected: number;
    seconds: number;
  };
}

export interface DatasetProgress {
  /** Called every few thousand events with the count so far (and the total when known). */
  onEvents?: (events: number, total: number | null) => void;
  /** A MEDS file's rows skipped, once per reason with the first row (the reader counts them; without this the user never hears why). */
  warn?: (message: string) => void;
}

export function describeSource(source: DataSource): string {
  switch (source.kind) {
    case 'synthetic':
      return `synthetic cohort (seed ${source.seed}, ${source.patients} patients, ${source.hours} h${source.deteriorationRate !== undefined ? `, deterioration rate ${source.deteriorationRate}` : ''})`;
    case 'cohort':
      return `cohort CSVs in ${source.dir}`;
    case 'meds':
      return `MEDS file ${source.file}`;
  }
}

export function describeLabel(label: LabelSpec, source: DataSource): string {
  if (label.kind === 'threshold') return `threshold rule: ${describeThresholdRule(label.rule)} — the forest only relearns this rule from the same vitals`;
  const what = source.kind === 'meds' ? (label.icuTransfer ? 'death in hospital or a transfer into an ICU' : 'death in hospital') : 'a severe outcome (death, ICU transfer or the deterioration event)';
  return `${what} within ${label.horizonHours} h after the row's time`;
}

export function cohortOptions(source: Extract<DataSource, { kind: 'synthetic' }>): CohortOptions {
  return {
    seed: source.seed,
    patients: source.patients,
    hours: source.hours,
    ...(source.artefactRate !== undefined ? { artefactRate: source.artefactRate } : {}),
    ...(source.deteriorationRate !== undefined ? { mix: { deteriorationRate: source.deteriorationRate } } : {}),
  };
}

async function* counted(events: Iterable<RawEvent> | AsyncIterable<RawEvent>, total: number | null, progress: DatasetProgress): AsyncGenerator<RawEvent> {
  let n = 0;
  for await (const e of events) {
    yield e;
    if (++n % 5000 === 0) progress.onEvents?.(n, total);
  }
  progress.onEvents?.(n, total);
}

/** Reads a source, featurizes its events, labels the rows. */
export async function buildDataset(source: DataSource, label: LabelSpec = DEFAULT_LABEL, progress: DatasetProgress = {}): Promise<Dataset> {
  const started = performance.now();
  let events: Iterable<RawEvent> | AsyncIterable<RawEvent>;
  let total: number | null = null;
  let outcome: ((meta: TrainingRowMeta) => 0 | 1 | null) | null = null;
  const horizon = label.kind === 'outcome' ? label.horizonHours : DEFAULT_HORIZON_HOURS;
  if (source.kind === 'synthetic') {
    const options = cohortOptions(source);
    outcome = cohortOutcomeLabeler(cohortPatients(options), horizon);
    events = (function* () {
      for (const r of cohortStream(options)) yield r.event;
    })();
  } else if (source.kind === 'cohort') {
    const cohort = await readCohort(source.dir);
    if (label.kind === 'outcome' && cohort.patients.length === 0) {
      throw new Error(`${source.dir}: no patients.csv, so no outcomes to label with; use --label threshold`);
    }
    outcome = cohortOutcomeLabeler(cohort.patients, horizon);
    events = cohort.events;
  } else {
    const meds = await readMeds(source.file, progress.warn ? { warn: progress.warn } : {});
    outcome = label.kind === 'outcome' && label.icuTransfer ? medsDeathOrIcuLabeler(meds.patients, horizon) : medsDeathLabeler(meds.patients, horizon);
    // Patients come one after another with their own (shifted) years: in time order the
    // event-time watermark only moves forward, as on a partition, so no stay is evicted early.
    const byTime = meds.events.map((e, i) => ({ e, t: Date.parse(e.occurredAt), i })).sort((a, b) => a.t - b.t || a.i - b.i);
    events = byTime.map((x) => x.e);
    total = byTime.length;
  }

  const built = await buildTrainingRows(counted(events, total, progress));
  const cols = built.matrix.cols;
  const X = built.matrix.data;
  const threshold = label.kind === 'threshold' ? thresholdLabeler(label.rule) : null;
  const y = new Uint8Array(built.matrix.rows);
  const patientOf = new Uint32Array(built.matrix.rows);
  const patients: string[] = [];
  const patientIndex = new Map<string, number>();
  const meta: TrainingRowMeta[] = [];
  let kept = 0;
  for (let i = 0; i < built.matrix.rows; i++) {
    const m = built.meta[i]!;
    const values = X.subarray(i * cols, (i + 1) * cols);
    const l = threshold ? threshold(m, values) : outcome(m);
    if (l === null) continue;
    if (kept !== i) X.copyWithin(kept * cols, i * cols, (i + 1) * cols);
    y[kept] = l;
    let p = patientIndex.get(m.patientId);
    if (p === undefined) {
      p = patients.length;
      patients.push(m.patientId);
      patientIndex.set(m.patientId, p);
    }
    patientOf[kept] = p;
    meta.push(m);
    kept++;
  }
  const rejected = Object.values(built.stats.rejected).reduce((a, b) => a + (b ?? 0), 0);
  return {
    sourceDescription: describeSource(source),
    labelDescription: describeLabel(label, source),
    featureNames: built.featureNames,
    featureSetVersion: built.featureSetVersion,
    rows: kept,
    cols,
    X: X.subarray(0, kept * cols),
    y: y.subarray(0, kept),
    patientOf: patientOf.subarray(0, kept),
    patients,
    meta,
    stats: {
      events: built.stats.events,
      vectors: built.stats.vectors,
      unlabelled: built.matrix.rows - kept,
      duplicates: built.stats.duplicates,
      rejected,
      seconds: (performance.now() - started) / 1000,
    },
  };
}

/** The rows at `index` (in that order) as a new dataset-shaped slice. */
export function selectRows(data: Pick<Dataset, 'X' | 'y' | 'cols'>, index: ArrayLike<number>): { X: Float64Array; y: Uint8Array; rows: number } {
  const { cols } = data;
  const X = new Float64Array(index.length * cols);
  const y = new Uint8Array(index.length);
  for (let k = 0; k < index.length; k++) {
    const i = index[k]!;
    X.set(data.X.subarray(i * cols, (i + 1) * cols), k * cols);
    y[k] = data.y[i]!;
  }
  return { X, y, rows: index.length };
}

/** The rows a pipeline works on: `given` (already built) or the source read and featurized; never empty. */
export async function labelledDataset(source: DataSource, label: LabelSpec, progress: Pick<TrainingProgress, 'events' | 'warn'>, given?: Dataset): Promise<Dataset> {
  const data = given ?? (await buildDataset(source, label, { onEvents: progress.events, warn: progress.warn }));
  if (data.rows === 0) throw new Error(`no labelled rows from ${data.sourceDescription}`);
  return data;
}
