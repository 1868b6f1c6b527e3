// What the producer checks before anything is accepted, at every door: the event's schema
// (the contract in @ehr/features; FHIR resources are checked again once mapped) and its time. An event dated more than MAX_FUTURE_SKEW
// ahead of the wall clock is refused as `future_event`: accepted, it would move the feature
// service's event-time watermark past every real patient of its partition.
import type { FhirIssue, ObservationMapping } from '@ehr/cohort';
import { futureEventProblem, validateRawEvent, type RawEvent, type Validation } from '@ehr/features';

export interface IntakeClock {
  /** The wall clock, epoch ms. */
  now: () => number;
  maxFutureSkewMs: number;
}

/** One item of a `POST /events` body → a valid raw event, or why not (the reason is a dead-letter reason). */
export function checkEvent(item: unknown, clock: IntakeClock): Validation<RawEvent> {
  const valid = validateRawEvent(item);
  if (!valid.ok) return valid;
  const future = futureEventProblem(valid.value.occurredAt, clock.now(), clock.maxFutureSkewMs);
  return future ? { ok: false, ...future } : valid;
}

/**
 * A FHIR mapping whose events the contract refuses (a value past its range, a time too far
 * ahead): the resource becomes invalid (no event is accepted from it) with an error issue
 * naming the reason. What the feature service's cleaning refuses beyond the contract (a unit
 * it does not know, a value outside plausibility limits) is accepted here, as at POST /events,
 * and dead-lettered there with that reason (`unknown_unit`, `implausible_value`).
 */
export function refuseInvalidEvents(mapping: ObservationMapping, clock: IntakeClock, expression: string): ObservationMapping {
  if (!mapping.valid) return mapping;
  const issues: FhirIssue[] = [];
  for (const event of mapping.events) {
    // The time first: a year past 9999 is "in the future" before it is "not writable as RFC 3339".
    const future = futureEventProblem(event.occurredAt, clock.now(), clock.maxFutureSkewMs);
    const checked = future ? { ok: false as const, ...future } : checkEvent(event, clock);
    if (checked.ok) continue;
    const where = checked.reason === 'future_event' ? `${expression}.effective[x]` : expression;
    issues.push({ severity: 'error', code: 'value', expression: where, diagnostics: `${checked.reason}: ${checked.error}` });
  }
  if (issues.length === 0) return mapping;
  return { ...mapping, valid: false, events: [], issues: [...mapping.issues, ...issues.slice(0, 5)] };
}
