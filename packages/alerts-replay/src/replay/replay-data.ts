// Real stays as the alerting service would have seen them, hour by hour: the model's
// probability (the artifact given), NEWS2 and its band, the served band (never calmer than
// NEWS2's tier, as scoring serves it), and when the last set of observations was complete.
// Only patients the model never saw (it was not trained or tuned on them, nor was any choice
// behind it made on them), and the validation patients on request: the artifact's recorded
// split (a subset's recorded draw) is rebuilt and checked against its list of seen patients.
import { featureIndex, news2OfFeatures, news2TierOf, servedBand, type FeatureValues } from '@ehr/features';
import { loadModelArtifact, sawPatient, type SeverityModel } from '@ehr/model';
import { buildDataset, detectDataKind, loadPhysioNetDataset, modelColumns, PHYSIONET_SPLIT, predictRows, splitByPatient, subsetOfRows } from '@ehr/training';
import { observationSetAt, OBSERVATION_SET_FEATURES, type ScoreReadings } from '@ehr/alerts';

const HOUR = 3_600_000;
/** PhysioNet has no dates: every stay's hour 0 is put at this instant (2026-01-01). */
export const PHYSIONET_ANCHOR = Date.parse('2026-01-01T00:00:00Z');
/** PhysioNet's SepsisLabel turns 1 six hours before the onset of sepsis. */
const SEPSIS_LABEL_LEAD_HOURS = 6;

/** One hour of a stay, as the score the alerting service would have read then. */
export type ReplayRow = ScoreReadings;

export interface ReplayStay {
  id: string;
  unit: string | null;
  rows: ReplayRow[];
  /** When the outcome began (epoch ms), null when the stay never had it. */
  onset: number | null;
}

export type ReplaySplit = 'test' | 'validation';

export interface ReplayData {
  kind: 'physionet' | 'meds';
  description: string;
  label: string;
  /** Whether the times are real dates (a unit's daily budget can only be replayed on those). */
  realDates: boolean;
  split: ReplaySplit;
  model: { name: string; version: string; contentHash: string };
  stays: ReplayStay[];
  /** Stays left out: the model was trained or tuned on them, or a choice behind it was made on them (its seen patients), or they belong to the other split. */
  excluded: number;
}

export interface ReplayDataOptions {
  model: string;
  data: string;
  /** Which patients (default test); several splits share one read of the data. */
  splits?: readonly ReplaySplit[];
  /** MEDS: label horizon in hours (default 12) and death only instead of death or ICU transfer. */
  horizonHours?: number;
  deathOnly?: boolean;
  onStage?: (stage: string) => void;
  warn?: (message: string) => void;
}

const PARTS = ['news2_total', 'news2_respiratory_rate', 'news2_spo2', 'news2_air_or_oxygen', 'news2_systolic_bp', 'news2_heart_rate', 'news2_consciousness', 'news2_temperature', ...OBSERVATION_SET_FEATURES] as const;

/** One row of a feature matrix as the replay needs it. */
function replayRow(model: SeverityModel, X: Float32Array | Float64Array, cols: number, i: number, at: number, probability: number): ReplayRow {
  const features: FeatureValues = {};
  for (const name of PARTS) {
    const v = X[i * cols + featureIndex(name)]!;
    features[name] = Number.isNaN(v) ? null : v;
  }
  const news2 = news2OfFeatures(features);
  const modelBand = model.bands ? model.band(probability) : null;
  const served = servedBand({ modelBand, probability, news2: news2TierOf(features) });
  return { at, probability, news2: news2.total, news2Band: news2.band, band: served.band, observedAt: observationSetAt(features, at) };
}

/** The data, one replay per requested split, in the order asked. */
export async function loadReplayData(options: ReplayDataOptions): Promise<ReplayData[]> {
  const stage = options.onStage ?? (() => undefined);
  const model = await loadModelArtifact(options.model);
  const splits = options.splits ?? ['test'];
  const kind = await detectDataKind(options.data);
  const modelInfo = { name: model.name, version: model.version, contentHash: model.contentHash };
  if (kind === 'physionet') {
    stage('reading and featurizing (PhysioNet)');
    const data = await loadPhysioNetDataset(options.data, options.warn ? { warn: options.warn } : {});
    if (!data.hasLabels) throw new Error(`${options.data}: no SepsisLabel column, nothing to replay against`);
    return splits.map((split) => {
      const chosen = choosePatients(model, data.patients, data.patientOf, data.y, split, data.source.sha256);
      const keep: number[] = [];
      for (let i = 0; i < data.rows; i++) if (chosen.has(data.patientOf[i]!)) keep.push(i);
      stage(`scoring ${keep.length} hours of ${chosen.size} stays`);
      const probability = predictRows(model, data.X, data.cols, keep, modelColumns(model, data.featureNames, data.featureSetVersion));
      const stays = new Map<number, ReplayStay>();
      keep.forEach((i, k) => {
        const p = data.patientOf[i]!;
        let stay = stays.get(p);
        if (!stay) {
          const unit = data.demographics[p]!.unit;
          stays.set(p, (stay = { id: data.patients[p]!, unit: unit === 'ICU' ? null : unit, rows: [], onset: null }));
        }
        const at = PHYSIONET_ANCHOR + data.hourOf[i]! * HOUR;
        if (data.y[i] === 1 && stay.onset === null) stay.onset = at + SEPSIS_LABEL_LEAD_HOURS * HOUR;
        stay.rows.push(replayRow(model, data.X, data.cols, i, at, probability[k]!));
      });
      return {
        kind,
        description: `${keep.length} hours of ${stays.size} PhysioNet/CinC 2019 stays (${split === 'test' ? 'patients the model never saw' : "the model's validation patients"}) in ${options.data}`,
        label: 'sepsis onset (PhysioNet/CinC 2019: the first SepsisLabel hour + 6 h)',
        realDates: false,
        split,
        model: modelInfo,
        stays: [...stays.values()],
        excluded: data.patients.length - stays.size,
      };
    });
  }
  if (splits.some((s) => s !== 'test')) throw new Error('--split validation needs the data the model was trained on (PhysioNet); a MEDS file is replayed on patients the model never saw');
  stage('reading and featurizing (MEDS)');
  const horizon = options.horizonHours ?? 12;
  const data = await buildDataset({ kind: 'meds', file: options.data }, { kind: 'outcome', horizonHours: horizon, icuTransfer: options.deathOnly !== true }, options.warn ? { warn: options.warn } : {});
  const unseen = new Set<number>();
  for (let p = 0; p < data.patients.length; p++) if (!sawPatient(model.artifact.seenPatients, data.patients[p]!)) unseen.add(p);
  const all: number[] = [];
  for (let i = 0; i < data.rows; i++) if (unseen.has(data.patientOf[i]!)) all.push(i);
  stage(`scoring ${all.length} feature vectors of ${unseen.size} patients`);
  const probability = predictRows(model, data.X, data.cols, all, modelColumns(model, data.featureNames, data.featureSetVersion));
  // Hour by hour: the last vector of each clock hour is that hour's score.
  const stays = new Map<number, ReplayStay & { hour: number }>();
  all.forEach((i, k) => {
    const p = data.patientOf[i]!;
    const at = Date.parse(data.meta[i]!.asOf);
    let stay = stays.get(p);
    if (!stay) stays.set(p, (stay = { id: data.patients[p]!, unit: null, rows: [], onset: null, hour: -1 }));
    // The label says the outcome follows within `horizon` hours: its first positive row dates the onset at most that late.
    if (data.y[i] === 1 && stay.onset === null) stay.onset = at + horizon * HOUR;
    const row = replayRow(model, data.X, data.cols, i, at, probability[k]!);
    const hour = Math.floor(at / HOUR);
    if (hour === stay.hour) stay.rows[stay.rows.length - 1] = row;
    else stay.rows.push(row);
    stay.hour = hour;
  });
  const list = [...stays.values()].map(({ hour: _h, ...s }) => s);
  return [{
    kind,
    description: `${list.reduce((n, s) => n + s.rows.length, 0)} scored hours (the last vector of each hour) of ${list.length} patients in ${options.data}`,
    label: `${options.deathOnly ? 'death in hospital' : 'death or ICU transfer'} (onset dated at the first row labelled positive + ${horizon} h, its latest possible time)`,
    realDates: true,
    split: 'test',
    model: modelInfo,
    stays: list,
    excluded: data.patients.length - list.length,
  }];
}

/**
 * The patients to replay. Test: every patient the artifact does not list as seen. Validation:
 * the artifact's own split rebuilt and checked against its list of seen patients. A model of
 * the whole data: its split rebuilt (same data, seed and fractions), its train and validation
 * patients exactly the ones it lists as seen. A subset model (`--stays`, npm start's default):
 * its draw redrawn from the whole data (provenance.subset: stays, seed, reference split), its
 * train and validation patients all listed as seen, its test patients none of them, and its
 * row counts those the artifact records.
 */
export function choosePatients(model: SeverityModel, patients: readonly string[], patientOf: Uint32Array, y: Uint8Array, split: ReplaySplit, sha256: string | null): Set<number> {
  const seen = model.artifact.seenPatients;
  if (split === 'test') {
    const unseen = new Set<number>();
    for (let p = 0; p < patients.length; p++) if (!sawPatient(seen, patients[p]!)) unseen.add(p);
    if (unseen.size === 0) throw new Error(`the model saw every patient in this data: nothing held out to replay`);
    return unseen;
  }
  const provenance = model.artifact.provenance;
  const recorded = provenance?.split;
  if (!seen || !provenance || !recorded || provenance.source !== 'physionet') throw new Error('--split validation needs a PhysioNet model that records its split and seen patients');
  const sameFile = sha256 === null || provenance.sha256 === null || provenance.sha256 === sha256;
  const file = (h: string | null) => `sha256 ${h?.slice(0, 12) ?? '?'}`;
  const subset = provenance.subset;
  if (subset) {
    if (!sameFile || (sha256 !== null && subset.referenceSha256 !== sha256)) {
      throw new Error(`--split validation needs the data model ${model.version}'s subset was drawn from (${file(subset.referenceSha256)}); this is ${file(sha256)} (${patients.length} stays)`);
    }
    const drawn = subsetOfRows({ patientOf, y, patients }, subset);
    const ids = (k: number) => drawn.stays.filter((_, i) => drawn.part[i] === k);
    const [train, validation, test] = [ids(0), ids(1), ids(2)];
    // Any draw inside the reference split agrees with the seen list (it lists the whole split's
    // training and validation patients): the row counts tell this draw's patients.
    const rowsOf = new Uint32Array(patients.length);
    for (const p of patientOf) rowsOf[p]!++;
    const rows = (ps: readonly number[]) => ps.reduce((n, p) => n + rowsOf[p]!, 0);
    const agrees =
      drawn.stays.length === provenance.patients &&
      rows(drawn.stays) === provenance.rows &&
      rows(train) === model.artifact.training.rows &&
      rows(validation) === model.artifact.training.validationRows &&
      train.length === recorded.train &&
      validation.length === recorded.validation &&
      test.length === recorded.test &&
      [...train, ...validation].every((p) => sawPatient(seen, patients[p]!)) &&
      test.every((p) => !sawPatient(seen, patients[p]!));
    if (!agrees) throw new Error(`model ${model.version}'s subset (${subset.stays} stays, seed ${subset.seed}) could not be redrawn from this data (its seen patients or row counts do not match): cannot tell its validation patients`);
    return new Set(validation);
  }
  if (provenance.patients !== patients.length || !sameFile) {
    const stale = sameFile && provenance.patients < patients.length;
    if (stale) {
      throw new Error(
        `model ${model.version} is a seeded subset of ${provenance.patients} of these ${patients.length} stays that does not record its draw (no provenance.subset: trained before subsets recorded it), ` +
          'so its validation patients cannot be redrawn: retrain it (npm start retrains the default model in its place), or replay a model of the whole data',
      );
    }
    throw new Error(`--split validation needs the very data the model was trained on (${provenance.patients} stays, ${file(provenance.sha256)}); this has ${patients.length} stays, ${file(sha256)}`);
  }
  const s = splitByPatient(patientOf, y, patients.length, PHYSIONET_SPLIT, recorded.seed);
  const agrees =
    s.patients.train.length === recorded.train &&
    s.patients.validation.length === recorded.validation &&
    [...s.patients.train, ...s.patients.validation].every((p) => sawPatient(seen, patients[p]!)) &&
    s.patients.test.every((p) => !sawPatient(seen, patients[p]!));
  if (!agrees) throw new Error("the model's recorded split could not be rebuilt from this data (its seen patients do not match): cannot tell its validation patients");
  return new Set(s.patients.validation);
}
