// Labels for training rows. The default is an outcome within a horizon after the row's
// time (the cohort's ground truth, or death in hospital for MEDS): never built from the
// vitals the features use. The threshold rule is offered for comparison with the original
// project and only teaches the forest to relearn the rule.
import { DEFAULT_HORIZON_HOURS, labelAt, type MedsPatient, type PatientRecord } from '@ehr/cohort';
import { featureIndex, type TrainingRowMeta } from '@ehr/features';

const HOUR_MS = 3_600_000;

/** Gives a row its label from who and when it describes (and, for the threshold rule, its values). */
export type RowLabeler = (meta: TrainingRowMeta, values: Float64Array) => 0 | 1;

/**
 * Synthetic or cohort-CSV ground truth: 1 when a severe outcome (death, ICU transfer, the
 * course's deterioration event) follows in (asOf, asOf + horizon]. Rows of a patient the
 * cohort has no record of get null (they are left out, and counted).
 */
export function cohortOutcomeLabeler(patients: readonly PatientRecord[], horizonHours = DEFAULT_HORIZON_HOURS): (meta: TrainingRowMeta) => 0 | 1 | null {
  const byId = new Map(patients.map((p) => [p.patientId, p]));
  return (meta) => {
    const p = byId.get(meta.patientId);
    return p ? labelAt(p, meta.asOf, horizonHours) : null;
  };
}

/**
 * MEDS (MIMIC-IV demo): 1 when the row's hospital admission ended in death in hospital
 * within (asOf, asOf + horizon]. Rows outside a known admission get null.
 */
export function medsDeathLabeler(patients: readonly MedsPatient[], horizonHours = DEFAULT_HORIZON_HOURS): (meta: TrainingRowMeta) => 0 | 1 | null {
  const deathByEncounter = new Map<string, number | null>();
  for (const p of patients) {
    for (const a of p.admissions) {
      const end = a.dischargeTime ?? (a.died ? p.deathTime : null);
      deathByEncounter.set(a.encounterId, a.died && end ? Date.parse(end) : null);
    }
  }
  return (meta) => {
    if (!meta.encounterId || !deathByEncounter.has(meta.encounterId)) return null;
    const death = deathByEncounter.get(meta.encounterId)!;
    if (death === null) return 0;
    const t = Date.parse(meta.asOf);
    return death > t && death <= t + horizonHours * HOUR_MS ? 1 : 0;
  };
}

/** The original project's rule: a row is severe when any configured threshold is crossed by its latest values. */
export interface ThresholdRule {
  /** Heart rate >= (per min). */
  heartRate?: number;
  /** Respiratory rate >= (per min). */
  respiratoryRate?: number;
  /** Temperature >= (°C). */
  temperature?: number;
  /** Temperature <= (°C). */
  temperatureLow?: number;
  /** SpO2 <= (%). */
  spo2?: number;
  /** Systolic BP <= (mmHg). */
  systolicBp?: number;
  /** Lactate >= (mmol/L). */
  lactate?: number;
  /** WBC >= (10³/µL). */
  wbc?: number;
}

export const DEFAULT_THRESHOLD_RULE: Required<Pick<ThresholdRule, 'heartRate' | 'respiratoryRate' | 'temperature' | 'spo2' | 'systolicBp'>> = {
  heartRate: 120,
  respiratoryRate: 25,
  temperature: 39,
  spo2: 91,
  systolicBp: 90,
};

const RULE_FEATURES: Record<keyof ThresholdRule, { feature: string; above: boolean; text: string }> = {
  heartRate: { feature: 'heart_rate', above: true, text: 'heart_rate ≥' },
  respiratoryRate: { feature: 'respiratory_rate', above: true, text: 'respiratory_rate ≥' },
  temperature: { feature: 'temperature', above: true, text: 'temperature ≥' },
  temperatureLow: { feature: 'temperature', above: false, text: 'temperature ≤' },
  spo2: { feature: 'spo2', above: false, text: 'spo2 ≤' },
  systolicBp: { feature: 'systolic_bp', above: false, text: 'systolic_bp ≤' },
  lactate: { feature: 'lactate', above: true, text: 'lactate ≥' },
  wbc: { feature: 'wbc', above: true, text: 'wbc ≥' },
};

export function thresholdLabeler(rule: ThresholdRule): RowLabeler {
  const checks = (Object.keys(RULE_FEATURES) as (keyof ThresholdRule)[])
    .filter((k) => rule[k] !== undefined)
    .map((k) => ({ index: featureIndex(RULE_FEATURES[k].feature), above: RULE_FEATURES[k].above, limit: rule[k]! }));
  if (checks.length === 0) throw new RangeError('the threshold rule needs at least one threshold');
  return (_meta, values) => {
    for (const c of checks) {
      const v = values[c.index]!;
      if (Number.isNaN(v)) continue;
      if (c.above ? v >= c.limit : v <= c.limit) return 1;
    }
    return 0;
  };
}

export function describeThresholdRule(rule: ThresholdRule): string {
  const parts = (Object.keys(RULE_FEATURES) as (keyof ThresholdRule)[]).filter((k) => rule[k] !== undefined).map((k) => `${RULE_FEATURES[k].text} ${rule[k]}`);
  return `severe when any of: ${parts.join(', ')} (latest values)`;
}

/**
 * MEDS (MIMIC-IV demo), the label of the real-data issue: 1 when the row's hospital admission
 * has a death in hospital, or a transfer into an ICU, in (asOf, asOf + horizon]. Rows outside a
 * known admission get null.
 */
export function medsDeathOrIcuLabeler(patients: readonly MedsPatient[], horizonHours = DEFAULT_HORIZON_HOURS): (meta: TrainingRowMeta) => 0 | 1 | null {
  const events = new Map<string, number[]>();
  for (const p of patients) {
    for (const a of p.admissions) {
      const times: number[] = a.icuStays.map((s) => Date.parse(s.inTime));
      const end = a.dischargeTime ?? (a.died ? p.deathTime : null);
      if (a.died && end) times.push(Date.parse(end));
      events.set(a.encounterId, times.sort((x, y) => x - y));
    }
  }
  return (meta) => {
    if (!meta.encounterId || !events.has(meta.encounterId)) return null;
    const t = Date.parse(meta.asOf);
    return events.get(meta.encounterId)!.some((e) => e > t && e <= t + horizonHours * HOUR_MS) ? 1 : 0;
  };
}
