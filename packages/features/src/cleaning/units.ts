// Unit normalisation: every value leaves here in the canonical unit of its signal
// (VITAL_UNITS / LAB_UNITS). A unit we do not know is rejected, never guessed.
import { LAB_UNITS, VITAL_UNITS, type LabKind, type VitalKind } from '../clinical/signals.js';

export type Signal = VitalKind | LabKind;

/** value in the given unit → value in the canonical unit. */
type Convert = (value: number) => number;
const same: Convert = (v) => v;
const scale = (factor: number): Convert => (v) => v * factor;
const fahrenheitToCelsius: Convert = (f) => ((f - 32) * 5) / 9;

const PER_MIN = { '/min': same, 'bpm': same, 'beats/min': same, '{beats}/min': same, 'insp/min': same, 'breaths/min': same, '{breaths}/min': same, '1/min': same };
const MMHG = { 'mm[hg]': same, 'mmhg': same, 'kpa': scale(7.50062) };
const PERCENT_OR_FRACTION = { '%': same, '1': scale(100), 'fraction': scale(100), '{fraction}': scale(100) };
const THOUSANDS_PER_UL = { '10*3/ul': same, '10^3/ul': same, 'k/ul': same, '10*9/l': same, '10^9/l': same, 'x10e3/ul': same, 'thou/ul': same };
const MMOL_L = { 'mmol/l': same, 'meq/l': same };
const U_L = { 'u/l': same, 'iu/l': same, '[iu]/l': same };

/** Lower-cased unit spelling → conversion to the canonical unit, per signal. */
const UNITS: Readonly<Record<Signal, Readonly<Record<string, Convert>>>> = {
  heart_rate: PER_MIN,
  respiratory_rate: PER_MIN,
  spo2: PERCENT_OR_FRACTION,
  systolic_bp: MMHG,
  diastolic_bp: MMHG,
  mean_bp: MMHG,
  temperature: { 'cel': same, '°c': same, 'c': same, 'degc': same, 'deg c': same, 'celsius': same, '[degf]': fahrenheitToCelsius, '°f': fahrenheitToCelsius, 'f': fahrenheitToCelsius, 'degf': fahrenheitToCelsius, 'deg f': fahrenheitToCelsius, 'fahrenheit': fahrenheitToCelsius },
  gcs: { '{score}': same, 'score': same, 'points': same, '1': same },
  avpu: { '{acvpu}': same, '{avpu}': same, '1': same },
  fio2: { '1': same, 'fraction': same, '{fraction}': same, '%': scale(0.01) },
  o2_flow: { 'l/min': same, 'lpm': same, 'l/m': same },
  supplemental_o2: { '{bool}': same, '1': same, 'bool': same },
  wbc: THOUSANDS_PER_UL,
  lactate: { 'mmol/l': same, 'mg/dl': scale(1 / 9.008) },
  creatinine: { 'mg/dl': same, 'umol/l': scale(1 / 88.42), 'µmol/l': scale(1 / 88.42) },
  hemoglobin: { 'g/dl': same, 'g/l': scale(0.1), 'mmol/l': scale(1.611) },
  platelets: THOUSANDS_PER_UL,
  sodium: MMOL_L,
  potassium: MMOL_L,
  bicarbonate: MMOL_L,
  bilirubin: { 'mg/dl': same, 'umol/l': scale(1 / 17.1), 'µmol/l': scale(1 / 17.1) },
  bun: { 'mg/dl': same, 'mmol/l': scale(2.801) },
  glucose: { 'mg/dl': same, 'mmol/l': scale(18.016) },
  etco2: MMHG,
  ph: { '[ph]': same, 'ph': same, '1': same },
  paco2: MMHG,
  base_excess: MMOL_L,
  sao2: PERCENT_OR_FRACTION,
  ast: U_L,
  alkaline_phosphatase: U_L,
  calcium: { 'mg/dl': same, 'mmol/l': scale(4.008) },
  chloride: MMOL_L,
  bilirubin_direct: { 'mg/dl': same, 'umol/l': scale(1 / 17.1), 'µmol/l': scale(1 / 17.1) },
  magnesium: { 'mg/dl': same, 'mmol/l': scale(2.431), 'meq/l': scale(1.215) },
  phosphate: { 'mg/dl': same, 'mmol/l': scale(3.097) },
  troponin_i: { 'ng/ml': same, 'ug/l': same, 'µg/l': same, 'ng/l': scale(0.001), 'pg/ml': scale(0.001) },
  hematocrit: { '%': same, '1': scale(100), 'l/l': scale(100) },
  ptt: { 's': same, 'sec': same, 'seconds': same },
  fibrinogen: { 'mg/dl': same, 'g/l': scale(100) },
};

export const CANONICAL_UNITS: Readonly<Record<Signal, string>> = { ...VITAL_UNITS, ...LAB_UNITS };

export type Normalised = { ok: true; value: number; correction: Correction | null } | { ok: false; error: string };

/** A value that was charted wrongly and repaired (not rejected); counted by the service. */
export type Correction = 'fahrenheit_charted_as_celsius' | 'fio2_percent_charted_as_fraction' | 'spo2_fraction_charted_as_percent';

export const CORRECTIONS: readonly Correction[] = ['fahrenheit_charted_as_celsius', 'fio2_percent_charted_as_fraction', 'spo2_fraction_charted_as_percent'];

/**
 * Converts to the canonical unit, then repairs the known charting slips whose ranges do
 * not overlap the real ones: a "°C" temperature of 70–120 is °F (no one is 99 °C);
 * an FiO2 "fraction" above 1 is a percent; an SpO2 "%" of at most 1 is a fraction.
 */
export function normaliseUnit(signal: Signal, value: number, unit: string): Normalised {
  // Own properties only: the unit (and, from a caller, the signal) come from input, and
  // `UNITS.heart_rate['__proto__']` would be Object.prototype.
  const table = Object.hasOwn(UNITS, signal) ? UNITS[signal] : undefined;
  if (!table) return { ok: false, error: `unknown signal ${JSON.stringify(signal)}` };
  const spelling = unit.trim().toLowerCase();
  const convert = Object.hasOwn(table, spelling) ? table[spelling] : undefined;
  if (!convert) {
    const known = Object.keys(table).join(', ');
    return { ok: false, error: `unknown unit ${JSON.stringify(unit)} for ${signal} (known: ${known})` };
  }
  const canonical = convert(value);
  if (signal === 'temperature' && convert === same && canonical >= 70 && canonical <= 120) {
    return { ok: true, value: fahrenheitToCelsius(canonical), correction: 'fahrenheit_charted_as_celsius' };
  }
  if (signal === 'fio2' && convert === same && canonical > 1 && canonical >= 21 && canonical <= 100) {
    return { ok: true, value: canonical / 100, correction: 'fio2_percent_charted_as_fraction' };
  }
  if (signal === 'spo2' && unit.trim() === '%' && canonical > 0 && canonical <= 1) {
    return { ok: true, value: canonical * 100, correction: 'spo2_fraction_charted_as_percent' };
  }
  return { ok: true, value: canonical, correction: null };
}
