// A synthetic patient's plan: demographics and the latent course of the stay, decided at
// admission, in hours from admission. The physiology follows the plan; labels derive from it.
import type { Random } from '@ehr/features';
import { HOUR, iso } from '../time.js';
import type { Course, Outcome, PatientRecord } from '../types.js';

export interface CourseMix {
  /** Share of admissions whose course deteriorates (sepsis, respiratory, bleeding); default 0.3. */
  deteriorationRate: number;
  /** Share of deteriorations that reach the deterioration event (the rest stay mild and recover); default 0.65. */
  severeShare: number;
}

export const DEFAULT_COURSE_MIX: CourseMix = { deteriorationRate: 0.3, severeShare: 0.65 };

const DEPARTMENTS = [
  { name: 'medicine', weight: 35, units: ['MED-A', 'MED-B', 'MED-C'], mix: { sepsis: 0.45, respiratory: 0.35, bleeding: 0.2 } },
  { name: 'surgery', weight: 20, units: ['SURG-1', 'SURG-2'], mix: { sepsis: 0.4, respiratory: 0.2, bleeding: 0.4 } },
  { name: 'respiratory', weight: 15, units: ['RESP'], mix: { sepsis: 0.3, respiratory: 0.6, bleeding: 0.1 } },
  { name: 'gastroenterology', weight: 12, units: ['GI'], mix: { sepsis: 0.35, respiratory: 0.15, bleeding: 0.5 } },
  { name: 'cardiology', weight: 10, units: ['CARD'], mix: { sepsis: 0.3, respiratory: 0.5, bleeding: 0.2 } },
  { name: 'geriatrics', weight: 8, units: ['GERI'], mix: { sepsis: 0.5, respiratory: 0.35, bleeding: 0.15 } },
] as const;

const ADMISSION_TYPES = [
  { name: 'emergency', weight: 65, risk: 1.1 },
  { name: 'urgent', weight: 15, risk: 1.0 },
  { name: 'elective', weight: 15, risk: 0.45 },
  { name: 'observation', weight: 5, risk: 0.6 },
] as const;

export function weighted<T extends { weight: number }>(rng: Random, items: readonly T[]): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let x = rng.next() * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item;
  }
  return items[items.length - 1]!;
}

export const uniform = (rng: Random, lo: number, hi: number) => lo + (hi - lo) * rng.next();
export const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Latent plan, times in hours from admission. */
export interface CoursePlan {
  course: Course;
  severe: boolean;
  onsetH: number | null;
  /** Peak of the deterioration: the deterioration event when severe. */
  peakH: number | null;
  peakSeverity: number;
  /** Hours from the peak until severity is back to baseline (recovering patients). */
  recoveryH: number;
  outcome: Exclude<Outcome, 'in_hospital'>;
  /** End of the stay (discharge, death or ICU transfer). */
  endH: number;
  /** Hours from onset until the team recognises the deterioration and treats it. */
  recognitionH: number;
  /** Sepsis with a falling temperature instead of fever. */
  hypothermic: boolean;
  /** Sepsis with a low white count. */
  leukopenic: boolean;
}

export interface Demographics {
  gender: 'F' | 'M';
  age: number;
  admissionType: string;
  department: string;
  unit: string;
  spo2Scale: 1 | 2;
  /** This ward charts temperature in °F (sent as `[degF]`, a valid unit). */
  chartsFahrenheit: boolean;
  /** Chronic mild confusion: GCS 14 at baseline, charted as Alert on ACVPU. */
  chronicConfusion: boolean;
  dischargeTo: 'home' | 'facility';
}

export interface PatientPlan {
  index: number;
  patientId: string;
  encounterId: string;
  demographics: Demographics;
  course: CoursePlan;
}

export function planPatient(rng: Random, index: number, patientId: string, mix: CourseMix = DEFAULT_COURSE_MIX): PatientPlan {
  const dept = weighted(rng, DEPARTMENTS);
  const admission = weighted(rng, ADMISSION_TYPES);
  const age = Math.round(clamp(rng.normal(dept.name === 'geriatrics' ? 83 : 64, dept.name === 'geriatrics' ? 6 : 16), 18, 99));
  const demographics: Demographics = {
    gender: rng.chance(0.5) ? 'F' : 'M',
    age,
    admissionType: admission.name,
    department: dept.name,
    unit: rng.pick(dept.units),
    spo2Scale: rng.chance(dept.name === 'respiratory' ? 0.2 : 0.03) ? 2 : 1,
    chartsFahrenheit: rng.chance(0.08),
    chronicConfusion: rng.chance(age > 80 ? 0.2 : 0.03),
    dischargeTo: rng.chance(age > 80 ? 0.35 : 0.1) ? 'facility' : 'home',
  };

  const risk = admission.risk * (age >= 75 ? 1.3 : age < 45 ? 0.6 : 1);
  const deteriorates = rng.chance(clamp(mix.deteriorationRate * risk, 0, 0.95));
  const course: Course = deteriorates
    ? weighted(rng, [
        { c: 'sepsis' as const, weight: dept.mix.sepsis },
        { c: 'respiratory' as const, weight: dept.mix.respiratory },
        { c: 'bleeding' as const, weight: dept.mix.bleeding },
      ]).c
    : 'stable';
  return { index, patientId, encounterId: `${patientId}-E1`, demographics, course: planCourse(rng, course, mix) };
}

function planCourse(rng: Random, course: Course, mix: CourseMix): CoursePlan {
  const base = { hypothermic: course === 'sepsis' && rng.chance(0.2), leukopenic: course === 'sepsis' && rng.chance(0.15) };
  if (course === 'stable') {
    const los = clamp(Math.exp(rng.normal(Math.log(60), 0.55)), 12, 14 * 24);
    return { course, severe: false, onsetH: null, peakH: null, peakSeverity: 0, recoveryH: 0, outcome: 'discharged', endH: los, recognitionH: Infinity, ...base };
  }
  const severe = rng.chance(mix.severeShare);
  const onsetH = uniform(rng, 3, 72);
  const peakH = onsetH + uniform(rng, 6, 24);
  const recognitionH = uniform(rng, 2, 8);
  if (!severe) {
    const recoveryH = uniform(rng, 12, 48);
    return { course, severe, onsetH, peakH, peakSeverity: uniform(rng, 0.3, 0.6), recoveryH, outcome: 'discharged', endH: peakH + recoveryH + uniform(rng, 12, 72), recognitionH, ...base };
  }
  const fate = weighted(rng, [
    { o: 'icu_transfer' as const, weight: 50 },
    { o: 'died' as const, weight: 20 },
    { o: 'discharged' as const, weight: 30 },
  ]).o;
  if (fate === 'icu_transfer') {
    return { course, severe, onsetH, peakH, peakSeverity: 1, recoveryH: 0, outcome: fate, endH: peakH + uniform(rng, 0.5, 4), recognitionH, ...base };
  }
  if (fate === 'died') {
    return { course, severe, onsetH, peakH, peakSeverity: 1, recoveryH: 0, outcome: fate, endH: peakH + uniform(rng, 2, 36), recognitionH, ...base };
  }
  const recoveryH = uniform(rng, 24, 72);
  return { course, severe, onsetH, peakH, peakSeverity: 1, recoveryH, outcome: fate, endH: peakH + recoveryH + uniform(rng, 12, 72), recognitionH, ...base };
}

/**
 * The patient as patients.csv records them. The outcome is the ground truth of the
 * simulation, known even when it falls after the end of the data (the events stop there).
 */
export function patientRecord(plan: PatientPlan, admitMs: number): PatientRecord {
  const at = (h: number | null) => (h === null ? null : Math.round((admitMs + h * HOUR) / 1000) * 1000);
  const c = plan.course;
  return {
    patientId: plan.patientId,
    encounterId: plan.encounterId,
    gender: plan.demographics.gender,
    age: plan.demographics.age,
    admissionType: plan.demographics.admissionType,
    unit: plan.demographics.unit,
    department: plan.demographics.department,
    spo2Scale: plan.demographics.spo2Scale,
    admitTime: iso(admitMs),
    course: c.course,
    onsetTime: c.onsetH === null ? null : iso(at(c.onsetH)!),
    eventTime: c.severe && c.peakH !== null ? iso(at(c.peakH)!) : null,
    outcome: c.outcome,
    outcomeTime: iso(at(c.endH)!),
  };
}
