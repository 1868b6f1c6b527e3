// A subset of the PhysioNet stays (`--stays`, npm start's default model) drawn inside the
// split of the full data, never across it. The forest's hyperparameters, the feature set and
// the calibration method were chosen on the full-data model's training and validation
// patients (seed 1); a subset split of its own would put some of those patients in its test
// set, and its figures would be read on patients a choice was made on. Drawn part by part,
// the subset's test patients are test patients of the full-data model, and its training
// and validation patients come from that model's training and validation patients.
import { createRandom } from '@ehr/features';
import { LABEL_COLUMN, type PhysioNetTable } from '@ehr/cohort';
import { splitByPatient, type SplitFractions } from './split.js';

/** The full-data run's split (`npm run train -- --physionet`'s default). */
export const PHYSIONET_SPLIT: SplitFractions = { train: 0.6, validation: 0.2, test: 0.2 };

/** The seed of the full-data split every choice was made on (`npm run train -- --physionet`'s default). */
export const PHYSIONET_REFERENCE_SEED = 1;

/**
 * The data every shipped choice was made on: the Challenge's training set B as the packed
 * parquet (18,000 stays). PHYSIONET_FOREST, the feature set and the calibration method were
 * chosen on the training and validation patients of its seed-1 split (PHYSIONET_SPLIT); a
 * claim that no choice was made on some patients holds only for this file.
 */
export const PHYSIONET_REFERENCE_DATA = {
  sha256: '0520cbcc1948ccebc2c39bc129049296652fb29a7b1fa164f972c6d3beda7ade',
  stays: 18_000,
  name: "the Challenge's training set B (physionet2019_setB_train.parquet, 18,000 stays)",
} as const;

/** Whether `sha256` is the file the shipped choices were made on. */
export const isReferenceData = (sha256: string | null | undefined): boolean => sha256 === PHYSIONET_REFERENCE_DATA.sha256;

const sameFractions = (a: SplitFractions, b: SplitFractions) => Math.abs(a.train - b.train) < 1e-9 && Math.abs(a.validation - b.validation) < 1e-9 && Math.abs(a.test - b.test) < 1e-9;

/** Whether a whole-data split at `seed` with `fractions` is the reference split (seed 1, PHYSIONET_SPLIT). */
export const isReferenceSplit = (fractions: SplitFractions, seed: number): boolean => seed === PHYSIONET_REFERENCE_SEED && sameFractions(fractions, PHYSIONET_SPLIT);

/** The full data's split, as a subset drawn from it carries it. */
export interface ReferenceSplit {
  seed: number;
  fractions: SplitFractions;
  /** Part of each of the subset's patients in the full split (0 train, 1 validation, 2 test), indexed like the data's `patients`. */
  part: Int8Array;
  /** Every training and validation patient of the full split (ids, in table order): the patients a choice was made on. */
  choicePatients: string[];
  /** The draw: stays asked for, its seed and its shares of the full split's parts (what redraws it: subsetOfRows). */
  draw: { stays: number; seed: number; fractions: SplitFractions };
}

/** Each patient's part of a seeded patient split of these rows (0 train, 1 validation, 2 test), and whether it has a positive row. */
export function referenceParts(patientOf: ArrayLike<number>, y: ArrayLike<number>, nPatients: number, fractions: SplitFractions, seed: number): { part: Int8Array; positive: Uint8Array } {
  const positive = new Uint8Array(nPatients);
  for (let i = 0; i < patientOf.length; i++) if (y[i] === 1) positive[patientOf[i]!] = 1;
  // The very function and arguments the full-data run splits with, so the parts are its parts.
  const split = splitByPatient(patientOf, y, nPatients, fractions, seed);
  const part = new Int8Array(nPatients);
  for (const p of split.patients.validation) part[p] = 1;
  for (const p of split.patients.test) part[p] = 2;
  return { part, positive };
}

/** Each stay's part of the full table's seeded patient split (0 train, 1 validation, 2 test) and whether it has a positive hour. */
export function tableSplit(table: PhysioNetTable, fractions: SplitFractions, seed: number): { part: Int8Array; positive: Uint8Array } {
  const label = table.columns.get(LABEL_COLUMN);
  const patientOf = new Uint32Array(table.rows);
  const y = new Uint8Array(table.rows);
  table.stays.forEach((s, p) => {
    for (let r = s.start; r < s.end; r++) {
      patientOf[r] = p;
      // As the training rows have it (physionet-data.ts): 1 only for a label of exactly 1.
      if (label?.[r] === 1) y[r] = 1;
    }
  });
  return referenceParts(patientOf, y, table.stays.length, fractions, seed);
}

/** What redraws a subset: the artifact's `provenance.subset`. */
export interface SubsetDraw {
  stays: number;
  seed: number;
  fractions: SplitFractions;
  referenceSeed: number;
  referenceFractions: SplitFractions;
}

/**
 * A subset redrawn from the whole data's rows (every stay, in table order: what
 * loadPhysioNetDataset gives without `stays`): its stays (indices into the data's patients,
 * ascending) and each one's part (0 train, 1 validation, 2 test), as trainOnPhysioNet split it.
 */
export function subsetOfRows(data: { patientOf: ArrayLike<number>; y: ArrayLike<number>; patients: readonly unknown[] }, draw: SubsetDraw): { stays: number[]; part: Int8Array } {
  const full = referenceParts(data.patientOf, data.y, data.patients.length, draw.referenceFractions, draw.referenceSeed);
  const stays = nestedSample(full.part, full.positive, draw.stays, draw.fractions, draw.seed);
  return { stays, part: Int8Array.from(stays, (p) => full.part[p]!) };
}

/**
 * `count` stay indices (ascending), seeded: round(count × share) from each part of the full
 * split (the shares of `fractions`), and within a part its patients with and without a
 * positive hour in the part's own proportion. Fewer when a part runs out.
 */
export function nestedSample(part: Int8Array, positive: Uint8Array, count: number, fractions: SplitFractions, seed: number): number[] {
  const nTest = Math.round(count * fractions.test);
  const nValidation = Math.round(count * fractions.validation);
  const wanted = [Math.max(0, count - nTest - nValidation), nValidation, nTest];
  const rng = createRandom(seed >>> 0).fork('physionet-stays');
  const chosen: number[] = [];
  for (let k = 0; k < 3; k++) {
    const cells: number[][] = [[], []];
    for (let p = 0; p < part.length; p++) if (part[p] === k) cells[positive[p]!]!.push(p);
    const size = cells[0]!.length + cells[1]!.length;
    const n = Math.min(wanted[k]!, size);
    const nPositive = Math.min(cells[1]!.length, size === 0 ? 0 : Math.round((n * cells[1]!.length) / size));
    for (const [cell, take] of [[cells[1]!, nPositive], [cells[0]!, Math.min(cells[0]!.length, n - nPositive)]] as const) {
      for (let i = 0; i < take; i++) {
        const j = i + Math.floor(rng.next() * (cell.length - i));
        [cell[i], cell[j]] = [cell[j]!, cell[i]!];
        chosen.push(cell[i]!);
      }
    }
  }
  return chosen.sort((a, b) => a - b);
}
