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
/** Points for a value by descending cut-offs: below cuts[0] → 1, below cuts[1] → 2, … */
const below = (v: number, cuts: readonly number[]) => cuts.filter((c) => v < c).length;
/** Points for a value by ascending cut-offs: at or above cuts[0] → 1, … */
const atLeast = (v: number, cuts: readonly number[]) => cuts.filter((c) => v >= c).length;

export function sofaParts(input: SofaInput): SofaParts {
  const { spo2FiO2: sf, platelets, bilirubin, meanArterialPressure: map, creatinine, gcs } = input;
  return {
    respiration: known(sf) ? below(sf, [400, 315, 235, 150]) : null,
    coagulation: known(platelets) ? below(platelets, [150, 100, 50, 20]) : null,
    liver: known(bilirubin) ? atLeast(bilirubin, [1.2, 2, 6, 12]) : null,
    cardiovascular: known(map) ? (map < 70 ? 1 : 0) : null,
    renal: known(creatinine) ? atLeast(creatinine, [1.2, 2, 3.5, 5]) : null,
    cns: known(gcs) ? below(Math.round(gcs), [15, 13, 10, 6]) : null,
  };
}

/** Sum of the parts that could be scored (0 when none could). */
export function sofaTotal(parts: SofaParts): number {
  let total = 0;
  for (const v of Object.values(parts) as (number | null)[]) if (v !== null) total += v;
  return total;
}
