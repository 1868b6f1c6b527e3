// The PhysioNet/CinC 2019 columns → the project's signals, each in the unit the Challenge
// documents (README beside the data). Demographics travel on the stay's admission event;
// ICULOS is the time axis; SepsisLabel is the training label, never streamed.
import { LAB_UNITS, VITAL_UNITS, type LabKind, type VitalKind } from '@ehr/features';

export type MeasurementColumn = { column: string; type: 'vital'; kind: VitalKind; unit: string } | { column: string; type: 'lab'; kind: LabKind; unit: string };

const vital = (column: string, kind: VitalKind): MeasurementColumn => ({ column, type: 'vital', kind, unit: VITAL_UNITS[kind] });
const lab = (column: string, kind: LabKind): MeasurementColumn => ({ column, type: 'lab', kind, unit: LAB_UNITS[kind] });

/** Measurements, in the Challenge's column order (vitals first, then labs): the order events are written within an hour. */
export const PHYSIONET_MEASUREMENTS: readonly MeasurementColumn[] = [
  vital('HR', 'heart_rate'),
  vital('O2Sat', 'spo2'),
  vital('Temp', 'temperature'),
  vital('SBP', 'systolic_bp'),
  vital('MAP', 'mean_bp'),
  vital('DBP', 'diastolic_bp'),
  vital('Resp', 'respiratory_rate'),
  vital('EtCO2', 'etco2'),
  // FiO2 is charted as a fraction; a percent slips through as 21–100 and is repaired by cleaning.
  vital('FiO2', 'fio2'),
  lab('BaseExcess', 'base_excess'),
  lab('HCO3', 'bicarbonate'),
  lab('pH', 'ph'),
  lab('PaCO2', 'paco2'),
  lab('SaO2', 'sao2'),
  lab('AST', 'ast'),
  lab('BUN', 'bun'),
  lab('Alkalinephos', 'alkaline_phosphatase'),
  lab('Calcium', 'calcium'),
  lab('Chloride', 'chloride'),
  lab('Creatinine', 'creatinine'),
  lab('Bilirubin_direct', 'bilirubin_direct'),
  lab('Glucose', 'glucose'),
  lab('Lactate', 'lactate'),
  lab('Magnesium', 'magnesium'),
  lab('Phosphate', 'phosphate'),
  lab('Potassium', 'potassium'),
  lab('Bilirubin_total', 'bilirubin'),
  lab('TroponinI', 'troponin_i'),
  lab('Hct', 'hematocrit'),
  lab('Hgb', 'hemoglobin'),
  lab('PTT', 'ptt'),
  lab('WBC', 'wbc'),
  lab('Fibrinogen', 'fibrinogen'),
  lab('Platelets', 'platelets'),
];

/** Stay-level columns: the admission event's demographics. */
export const PHYSIONET_DEMOGRAPHICS = ['Age', 'Gender', 'Unit1', 'Unit2', 'HospAdmTime'] as const;
/** Hours since ICU admission: the time axis. */
export const ICULOS_COLUMN = 'ICULOS';
export const LABEL_COLUMN = 'SepsisLabel';

const YEAR_HOURS = 8766;
/**
 * What the time columns may hold: beyond it an event time is past what a Date can hold (an
 * ICULOS of 1e12 was a bare RangeError far from the file), or no stay lasts that long. The
 * data: ICULOS 1–336, HospAdmTime −3398–0.
 */
export const TIME_COLUMN_BOUNDS: ReadonlyMap<string, { min: number; max: number; meaning: string }> = new Map([
  [ICULOS_COLUMN, { min: 0, max: 100 * 24, meaning: 'hours since ICU admission: 0 to 2400, 100 days' }],
  ['HospAdmTime', { min: -10 * YEAR_HOURS, max: 10 * YEAR_HOURS, meaning: 'hours from hospital to ICU admission: within ±87660, 10 years' }],
]);
/** Identity columns of the packed parquet (a .psv's patient is its file name; its hour its row). */
export const ID_COLUMNS = ['patient_id', 'hour'] as const;

/** Every column the mapping knows; anything else in a file is reported, never silently dropped. */
export const KNOWN_COLUMNS: ReadonlySet<string> = new Set([
  ...PHYSIONET_MEASUREMENTS.map((m) => m.column),
  ...PHYSIONET_DEMOGRAPHICS,
  ICULOS_COLUMN,
  LABEL_COLUMN,
  ...ID_COLUMNS,
]);

/** The numeric columns a stay table holds (measurements, demographics, time axis, label). */
export const TABLE_COLUMNS: readonly string[] = [...PHYSIONET_MEASUREMENTS.map((m) => m.column), ...PHYSIONET_DEMOGRAPHICS, ICULOS_COLUMN, LABEL_COLUMN];
