// Partial SOFA (Vincent et al., Intensive Care Med 1996), from what hourly ICU data carries:
// no vasopressor doses and no urine output, and PaO2 is rarely charted, so respiration uses
// SpO2/FiO2 with the cut-offs that map onto PaO2/FiO2 400, 300, 200 and 100 through
// S/F = 64 + 0.84 · P/F (Rice et al., Chest 2007; Pandharipande et al., Crit Care Med 2009).
// Sepsis-3, and so the PhysioNet/CinC 2019 label, is a SOFA rise of 2 or more with suspected
// infection: the sum and its change carry what no single lab does.

export interface SofaInput {
  /** SpO2 (%) / FiO2 (fraction). */
  spo2FiO2?: number | null;
  /** 10³/µL. */
  platelets?: number | null;
  /** Total bilirubin, mg/dL. */
  bilirubin?: number | null;
  /** Mean arterial pressure, mmHg (only MAP < 70 is scored: no vasopressor data). */
  meanArterialPressure?: number | null;
  /** mg/dL (urine output is not charted). */
  creatinine?: number | null;
  gcs?: number | null;
}

export interface SofaParts {
  respiration: number | null;
  coagulation: number | null;
  liver: number | null;
  cardiovascular: number | null;
  renal: number | null;
  cns: number | null;
}

const known = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
// Counted in a loop, not by filtering into an array: every feature vector scores SOFA twice.
/** Points for a value by descending cut-offs: below cuts[0] → 1, below cuts[1] → 2, … */
function below(v: number, cuts: readonly number[]): number {
  let n = 0;
  for (const c of cuts) if (v < c) n++;
  return n;
}
/** Points for a value by ascending cut-offs: at or above cuts[0] → 1, … */
function atLeast(v: number, cuts: readonly number[]): number {
  let n = 0;
  for (const c of cuts) if (v >= c) n++;
  return n;
}
const RESPIRATION = [400, 315, 235, 150];
const COAGULATION = [150, 100, 50, 20];
const LIVER = [1.2, 2, 6, 12];
const RENAL = [1.2, 2, 3.5, 5];
const CNS = [15, 13, 10, 6];

export function sofaParts(input: SofaInput): SofaParts {
  const { spo2FiO2: sf, platelets, bilirubin, meanArterialPressure: map, creatinine, gcs } = input;
  return {
    respiration: known(sf) ? below(sf, RESPIRATION) : null,
    coagulation: known(platelets) ? below(platelets, COAGULATION) : null,
    liver: known(bilirubin) ? atLeast(bilirubin, LIVER) : null,
    cardiovascular: known(map) ? (map < 70 ? 1 : 0) : null,
    renal: known(creatinine) ? atLeast(creatinine, RENAL) : null,
    cns: known(gcs) ? below(Math.round(gcs), CNS) : null,
  };
}

/** Sum of the parts that could be scored (0 when none could). */
export function sofaTotal(parts: SofaParts): number {
  let total = 0;
  for (const v of [parts.respiration, parts.coagulation, parts.liver, parts.cardiovascular, parts.renal, parts.cns]) if (v !== null) total += v;
  return total;
}
