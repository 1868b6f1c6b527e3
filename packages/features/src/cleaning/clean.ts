// Cleaning, in the order the issue fixes: unit normalisation, then plausibility per
// signal. (Deduplication by event id needs the patient's history: the state reducer
// does it.) What is rejected carries a dead-letter reason and says why.
import type { DeadLetterReason, ValidationIssue } from '../schemas/dead-letter.js';
import type { RawEvent } from '../schemas/events.js';
import { admissionImplausibility, implausibility } from './plausibility.js';
import { CANONICAL_UNITS, normaliseUnit, type Correction } from './units.js';

export type CleanResult =
  | { ok: true; event: RawEvent; correction: Correction | null }
  | { ok: false; reason: Extract<DeadLetterReason, 'implausible_value' | 'unknown_unit'>; error: string; issues: ValidationIssue[] };

/** A raw event in canonical units, or why it cannot be used. Events without a value pass unchanged. */
export function cleanEvent(event: RawEvent): CleanResult {
  if (event.schema === 'admission') {
    const problem = admissionImplausibility(event.occurredAt, event.payload.hospitalAdmitTime);
    return problem ? { ok: false, reason: 'implausible_value', error: problem, issues: [{ path: 'payload.hospitalAdmitTime', message: problem }] } : { ok: true, event, correction: null };
  }
  if (event.schema !== 'vital_sign' && event.schema !== 'lab_result') return { ok: true, event, correction: null };
  const { kind, value, unit } = event.payload;
  const normalised = normaliseUnit(kind, value, unit);
  if (!normalised.ok) {
    return { ok: false, reason: 'unknown_unit', error: normalised.error, issues: [{ path: 'payload.unit', message: normalised.error }] };
  }
  const problem = implausibility(kind, normalised.value);
  if (problem) {
    const shown = normalised.value === value ? problem : `${problem} (sent as ${value} ${unit})`;
    return { ok: false, reason: 'implausible_value', error: shown, issues: [{ path: 'payload.value', message: shown }] };
  }
  if (normalised.value === value && unit === CANONICAL_UNITS[kind]) return { ok: true, event, correction: null };
  const payload = { ...event.payload, value: normalised.value, unit: CANONICAL_UNITS[kind] };
  return { ok: true, event: { ...event, payload } as RawEvent, correction: normalised.correction };
}
