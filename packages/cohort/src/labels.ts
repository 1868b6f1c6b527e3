import { HOUR, iso, toMs } from './time.js';
import type { Label, PatientRecord, SevereOutcomeType } from './types.js';

export const DEFAULT_HORIZON_HOURS = 12;

export interface SevereOutcome {
  type: SevereOutcomeType;
  /** Epoch milliseconds. */
  time: number;
}

/** Every severe outcome of a stay, in time order: the course's deterioration event, ICU transfer, death. */
export function severeOutcomes(patient: PatientRecord): SevereOutcome[] {
  const out: SevereOutcome[] = [];
  if (patient.eventTime) out.push({ type: 'deterioration', time: toMs(patient.eventTime, 'event_time') });
  if (patient.outcomeTime && (patient.outcome === 'died' || patient.outcome === 'icu_transfer')) {
    out.push({ type: patient.outcome === 'died' ? 'death' : 'icu_transfer', time: toMs(patient.outcomeTime, 'outcome_time') });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** The first severe outcome strictly after `time`, or null. */
export function nextSevereOutcome(patient: PatientRecord, time: string | number | Date): SevereOutcome | null {
  const t = toMs(time);
  return severeOutcomes(patient).find((o) => o.time > t) ?? null;
}

/**
 * The training label of a patient at a time: 1 when a severe outcome (death, ICU
 * transfer, or the course's deterioration event) follows within the horizon, in
 * (time, time + horizon]; else 0. The same rule labels the hourly grid of labels.csv and
 * any feature vector a trainer builds at an arbitrary time.
 */
export function labelAt(patient: PatientRecord, time: string | number | Date, horizonHours = DEFAULT_HORIZON_HOURS): 0 | 1 {
  const t = toMs(time);
  const next = nextSevereOutcome(patient, t);
  return next !== null && next.time <= t + horizonHours * HOUR ? 1 : 0;
}

export interface LabelGridOptions {
  horizonHours?: number;
  stepHours?: number;
  /** End of the data: no label is produced at or after it (the stay may go on beyond). */
  end: string | number | Date;
}

/**
 * Labels on a regular grid (default hourly) from the first whole step after admission
 * until the stay ends (or the data does), patient by patient.
 */
export function labelGrid(patients: readonly PatientRecord[], options: LabelGridOptions): Label[] {
  const horizon = options.horizonHours ?? DEFAULT_HORIZON_HOURS;
  const step = (options.stepHours ?? 1) * HOUR;
  const dataEnd = toMs(options.end, 'end');
  const labels: Label[] = [];
  for (const p of patients) {
    const admit = toMs(p.admitTime, 'admit_time');
    const stayEnd = Math.min(p.outcomeTime ? toMs(p.outcomeTime, 'outcome_time') : Infinity, dataEnd);
    const outcomes = severeOutcomes(p);
    for (let t = Math.floor(admit / step) * step + step; t < stayEnd; t += step) {
      const next = outcomes.find((o) => o.time > t) ?? null;
      const label = next !== null && next.time <= t + horizon * HOUR ? 1 : 0;
      labels.push({
        patientId: p.patientId,
        encounterId: p.encounterId,
        time: iso(t),
        label,
        hoursToEvent: next ? Math.round(((next.time - t) / HOUR) * 100) / 100 : null,
        eventType: next?.type ?? null,
      });
    }
  }
  return labels;
}
