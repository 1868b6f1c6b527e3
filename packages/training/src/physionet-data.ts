// PhysioNet/CinC 2019 stays as hourly training rows: each stay's events go through the
// feature service's own engine (buildSampledRows), and every row of the stay — every hour
// the Challenge scores — gets the vector of the state after that hour's events, with the
// row's SepsisLabel. Float32 rows: all 18,000 stays (685k rows) fit in about 0.7 GB.
import { performance } from 'node:perf_hooks';
import { physionetStays, readPhysioNet, type PhysioNetDemographics, type PhysioNetTable } from '@ehr/cohort';
import { buildSampledRows } from '@ehr/features';
import { nestedSample, PHYSIONET_REFERENCE_SEED, PHYSIONET_SPLIT, tableSplit, type ReferenceSplit } from './physionet-subset.js';
import type { SplitFractions } from './split.js';

export interface HourlyDataset {
  source: PhysioNetTable['source'];
  featureNames: readonly string[];
  featureSetVersion: string;
  rows: number;
  cols: number;
  /** Row-major, NaN = missing. */
  X: Float32Array;
  /** SepsisLabel per row (all 0 when the data has none: see hasLabels). */
  y: Uint8Array;
  hasLabels: boolean;
  /** Index into `patients` of each row's stay. */
  patientOf: Uint32Array;
  /** Row position within its stay (the Challenge's time index t). */
  hourOf: Uint32Array;
  /** The Challenge's ids (file names), one per stay. */
  patients: string[];
  demographics: PhysioNetDemographics[];
  /** A subset's place in the full data's split (`stays`): train on it, never re-split. Absent for the whole data. */
  reference?: ReferenceSplit;
  stats: { events: number; rejected: number; rejectedBy: Record<string, number>; unknownColumns: string[]; readSeconds: number; featureSeconds: number };
}

export interface PhysioNetLoadOptions {
  /** Use a seeded random subset of this many stays (default: all), drawn part by part inside the full data's split (physionet-subset.ts). */
  stays?: number;
  seed?: number;
  /** The subset's shares of the full split's training, validation and test patients (default PHYSIONET_SPLIT). */
  split?: SplitFractions;
  warn?: (message: string) => void;
  onProgress?: (stays: number, total: number) => void;
}

export async function loadPhysioNetDataset(path: string, options: PhysioNetLoadOptions = {}): Promise<HourlyDataset> {
  const t0 = performance.now();
  const table = await readPhysioNet(path, options.warn ? { warn: options.warn } : {});
  const readSeconds = (performance.now() - t0) / 1000;
  const subset = options.stays !== undefined && options.stays < table.stays.length;
  const full = subset ? tableSplit(table, PHYSIONET_SPLIT, PHYSIONET_REFERENCE_SEED) : null;
  const chosen = full ? nestedSample(full.part, full.positive, options.stays!, options.split ?? PHYSIONET_SPLIT, options.seed ?? 0) : table.stays.map((_, i) => i);
  const labels: Uint8Array[] = [];
  const demographics: PhysioNetDemographics[] = [];
  const patients: string[] = [];
  const t1 = performance.now();
  const expectedRows = chosen.reduce((n, i) => n + table.stays[i]!.end - table.stays[i]!.start, 0);
  const built = buildSampledRows(
    (function* () {
      for (const s of physionetStays(table, { stays: chosen })) {
        labels.push(s.labels ?? new Uint8Array(s.rowTimes.length));
        demographics.push(s.demographics);
        patients.push(s.sourceId);
        yield { patientId: s.patientId, events: s.events, sampleTimes: s.rowTimes };
      }
    })(),
    { expectedRows, ...(options.onProgress ? { onStay: (done: number) => options.onProgress!(done, chosen.length) } : {}) },
  );
  const y = new Uint8Array(built.rows);
  const hourOf = new Uint32Array(built.rows); // a stay past 65,535 hours wrapped in 16 bits
  let previous = -1;
  let h = 0;
  for (let i = 0; i < built.rows; i++) {
    const p = built.stayOf[i]!;
    h = p === previous ? h + 1 : 0;
    previous = p;
    hourOf[i] = h;
    y[i] = labels[p]![h]!;
  }
  const rejectedBy: Record<string, number> = Object.create(null) as Record<string, number>;
  let rejected = 0;
  for (const [reason, n] of Object.entries(built.stats.rejected)) {
    rejectedBy[reason] = n;
    rejected += n;
  }
  return {
    source: table.source,
    featureNames: built.featureNames,
    featureSetVersion: built.featureSetVersion,
    rows: built.rows,
    cols: built.cols,
    X: built.data,
    y,
    hasLabels: table.hasLabels,
    patientOf: built.stayOf,
    hourOf,
    patients,
    demographics,
    ...(full
      ? {
          reference: {
            seed: PHYSIONET_REFERENCE_SEED,
            fractions: PHYSIONET_SPLIT,
            part: Int8Array.from(chosen, (i) => full.part[i]!),
            choicePatients: table.stays.filter((_, i) => full.part[i] !== 2).map((s) => s.patientId),
            draw: { stays: options.stays!, seed: options.seed ?? 0, fractions: options.split ?? PHYSIONET_SPLIT },
          },
        }
      : {}),
    stats: { events: built.stats.events, rejected, rejectedBy, unknownColumns: table.unknownColumns, readSeconds, featureSeconds: (performance.now() - t1) / 1000 },
  };
}
