// Plausibility limits in canonical units (docs: clinical-reference.md "Plausibility and
// units" for the vitals; the lab limits are the widest values compatible with life).
import type { Signal } from './units.js';

export interface Limit {
  min: number;
  max: number;
  /** Only whole numbers are meaningful (GCS, ACVPU, the oxygen flag). */
  integer?: boolean;
}

export const PLAUSIBLE_LIMITS: Readonly<Record<Signal, Limit>> = {
  heart_rate: { min: 0, max: 300 },
  respiratory_rate: { min: 0, max: 70 },
  spo2: { min: 0, max: 100 },
  systolic_bp: { min: 0, max: 400 },
  diastolic_bp: { min: 0, max: 300 },
  mean_bp: { min: 0, max: 300 },
  temperature: { min: 10, max: 50 },
  gcs: { min: 3, max: 15, integer: true },
  avpu: { min: 0, max: 4, integer: true },
  fio2: { min: 0.21, max: 1 },
  o2_flow: { min: 0, max: 80 },
  supplemental_o2: { min: 0, max: 1, integer: true },
  wbc: { min: 0, max: 500 },
  lactate: { min: 0, max: 40 },
  creatinine: { min: 0, max: 40 },
  hemoglobin: { min: 0, max: 30 },
  platelets: { min: 0, max: 3000 },
  sodium: { min: 80, max: 200 },
  potassium: { min: 0.5, max: 15 },
  bicarbonate: { min: 0, max: 70 },
  bilirubin: { min: 0, max: 100 },
  bun: { min: 0, max: 400 },
  glucose: { min: 0, max: 3000 },
  etco2: { min: 0, max: 150 },
  ph: { min: 6.3, max: 8.0 },
  paco2: { min: 5, max: 250 },
  base_excess: { min: -50, max: 50 },
  sao2: { min: 0, max: 100 },
  ast: { min: 0, max: 50000 },
  alkaline_phosphatase: { min: 0, max: 10000 },
  // mg/dL; ionised calcium charted in mmol/L (about 1.1) also lands in range, as PhysioNet's does.
  calcium: { min: 0, max: 30 },
  chloride: { min: 50, max: 200 },
  bilirubin_direct: { min: 0, max: 60 },
  magnesium: { min: 0, max: 20 },
  phosphate: { min: 0, max: 30 },
  troponin_i: { min: 0, max: 1000 },
  hematocrit: { min: 0, max: 100 },
  ptt: { min: 0, max: 300 },
  fibrinogen: { min: 0, max: 3000 },
};

/** null when plausible, else why not. */
export function implausibility(signal: Signal, value: number): string | null {
  const limit = PLAUSIBLE_LIMITS[signal];
  if (!Number.isFinite(value)) return `${signal} is not a finite number`;
  if (value < limit.min || value > limit.max) return `${signal} ${round(value)} is outside the plausible range ${limit.min}–${limit.max}`;
  if (limit.integer && !Number.isInteger(value)) return `${signal} ${value} must be a whole number`;
  return null;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** Longest plausible hospital stay before the admitting unit (PhysioNet's longest is 142 days). */
export const MAX_HOSPITAL_DAYS_BEFORE_ADMISSION = 365;

/** null when the hospital admission time fits the admission, else why not. */
export function admissionImplausibility(occurredAt: string, hospitalAdmitTime: string | undefined): string | null {
  if (hospitalAdmitTime === undefined) return null;
  const hours = (Date.parse(occurredAt) - Date.parse(hospitalAdmitTime)) / 3_600_000;
  // A minute of slack: systems stamp the two admissions from different clocks.
  if (hours < -1 / 60) return `hospitalAdmitTime ${hospitalAdmitTime} is after the admission itself (${occurredAt})`;
  if (hours > MAX_HOSPITAL_DAYS_BEFORE_ADMISSION * 24) return `hospitalAdmitTime ${hospitalAdmitTime} is more than ${MAX_HOSPITAL_DAYS_BEFORE_ADMISSION} days before the admission (${occurredAt})`;
  return null;
}
