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

/** The full data's split, as a subset drawn from it carries it. */
export interface ReferenceSplit {
  seed: number;
  fractions: SplitFractions;
  /** Part of each of the subset's patients in the full split (0 train, 1 validation, 2 test), indexed like the data's `patients`. */
  part: Int8Array;
  /** Every training and validation patient of the full split (ids, in table order): the patients a choice was made on. */
  choicePatients: string[];
}

/** Each stay's part of the full table's seeded patient split (0 train, 1 validation, 2 test) and whether it has a positive hour. */
export function tableSplit(table: PhysioNetTable, fractions: SplitFractions, seed: number): { part: Int8Array; positive: Uint8Array } {
  const label = table.columns.get(LABEL_COLUMN);
  const patientOf = new Uint32Array(table.rows);
  const y = new Uint8Array(table.rows);
  const positive = new Uint8Array(table.stays.length);
  table.stays.forEach((s, p) => {
    for (let r = s.start; r < s.end; r++) {
      patientOf[r] = p;
      // As the training rows have it (physionet-data.ts): 1 only for a label of exactly 1.
      if (label?.[r] === 1) y[r] = positive[p] = 1;
    }
  });
  // The very function and arguments the full-data run splits with, so the parts are its parts.
  const split = splitByPatient(patientOf, y, table.stays.length, fractions, seed);
  const part = new Int8Array(table.stays.length);
  for (const p of split.patients.validation) part[p] = 1;
  for (const p of split.patients.test) part[p] = 2;
  return { part, positive };
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
