// Patient-level split: every patient's rows go to exactly one of train, validation and
// test, so no split sees a patient another split was trained or tuned on. Patients with
// at least one positive row and those without are shuffled and cut separately, so small
// cohorts (the MIMIC-IV demo has 100 patients) still get positives in every split.
import { createRandom, type Random } from '@ehr/features';

export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

export const DEFAULT_SPLIT: SplitFractions = { train: 0.6, validation: 0.2, test: 0.2 };

export interface PatientSplit {
  /** Row indices of each part, ascending. */
  train: Uint32Array;
  validation: Uint32Array;
  test: Uint32Array;
  /** Patient indices of each part, ascending. */
  patients: { train: number[]; validation: number[]; test: number[] };
}

export function parseSplit(text: string): SplitFractions {
  const parts = text.split(',').map(Number);
  if (parts.length !== 3 || parts.some((x) => !(x >= 0)) || !(parts[0]! > 0)) throw new RangeError(`split must be three fractions train,validation,test (e.g. 0.6,0.2,0.2), got '${text}'`);
  return splitFractions(parts);
}

/** Three shares (train > 0), scaled to sum to 1. */
export function splitFractions(parts: readonly number[]): SplitFractions {
  const sum = parts[0]! + parts[1]! + parts[2]!;
  return { train: parts[0]! / sum, validation: parts[1]! / sum, test: parts[2]! / sum };
}

/**
 * Splits rows by patient. `patientOf[i]` is row i's patient index (0..nPatients-1).
 * Deterministic in (seed, patients, labels).
 */
export function splitByPatient(patientOf: ArrayLike<number>, y: ArrayLike<number>, nPatients: number, fractions: SplitFractions = DEFAULT_SPLIT, seed = 0): PatientSplit {
  const positive = positivePatients(patientOf, y, nPatients);
  const part = new Int8Array(nPatients); // 0 train, 1 validation, 2 test
  const rng = createRandom(seed >>> 0).fork('patient-split');
  for (const stratum of [1, 0]) {
    const ids = shuffledStratum(positive, stratum, rng);
    const nTest = fractions.test > 0 ? Math.max(ids.length >= 3 ? 1 : 0, Math.round(ids.length * fractions.test)) : 0;
    const nVal = fractions.validation > 0 ? Math.max(ids.length >= 3 ? 1 : 0, Math.round(ids.length * fractions.validation)) : 0;
    ids.forEach((p, k) => {
      part[p] = k < nTest ? 2 : k < nTest + nVal ? 1 : 0;
    });
  }
  return splitByParts(patientOf, part);
}

/** The split that gives patient p the part `part[p]` (0 train, 1 validation, 2 test). */
export function splitByParts(patientOf: ArrayLike<number>, part: ArrayLike<number>): PatientSplit {
  const rows: number[][] = [[], [], []];
  for (let i = 0; i < patientOf.length; i++) rows[part[patientOf[i]!]!]!.push(i);
  const patients: number[][] = [[], [], []];
  for (let p = 0; p < part.length; p++) patients[part[p]!]!.push(p);
  return {
    train: Uint32Array.from(rows[0]!),
    validation: Uint32Array.from(rows[1]!),
    test: Uint32Array.from(rows[2]!),
    patients: { train: patients[0]!, validation: patients[1]!, test: patients[2]! },
  };
}

/**
 * k patient folds for cross-validation: patients with and without a positive row are
 * shuffled (seeded) and dealt round-robin, so each fold gets its share of both.
 * Returns each patient's fold (0..k-1).
 */
export function patientFolds(patientOf: ArrayLike<number>, y: ArrayLike<number>, nPatients: number, k: number, seed = 0): Uint8Array {
  if (!Number.isInteger(k) || k < 3 || k > 255) throw new RangeError(`folds must be an integer from 3 to 255, got ${k}`);
  const positive = positivePatients(patientOf, y, nPatients);
  const fold = new Uint8Array(nPatients);
  const rng = createRandom(seed >>> 0).fork('patient-folds');
  let next = 0;
  for (const stratum of [1, 0]) {
    const ids = shuffledStratum(positive, stratum, rng);
    for (const p of ids) fold[p] = next++ % k;
  }
  return fold;
}

/** 1 for each patient with at least one positive row: the two strata split and folds keep apart. */
function positivePatients(patientOf: ArrayLike<number>, y: ArrayLike<number>, nPatients: number): Uint8Array {
  const positive = new Uint8Array(nPatients);
  for (let i = 0; i < patientOf.length; i++) if (y[i] === 1) positive[patientOf[i]!] = 1;
  return positive;
}

/** One stratum's patients in a seeded Fisher-Yates order (drawing from `rng` as the split always has). */
function shuffledStratum(positive: Uint8Array, stratum: number, rng: Random): number[] {
  const ids: number[] = [];
  for (let p = 0; p < positive.length; p++) if (positive[p] === stratum) ids.push(p);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}
