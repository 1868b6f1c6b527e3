// Alerts as events on ehr.alerts.v1: what the alerting service decided about a patient
// (raised, escalated, resolved) and what a clinician did (acknowledged, dismissed). Every
// event's id derives from the alert's id and the event type, and the alert's id from the
// patient, the alert kind and the score (or observation set) that caused it: a replay
// yields the same ids, so the warehouse lands each event exactly once.
import { Type, type Static } from '@sinclair/typebox';
import { compileValidator, parseJson, type Validation } from '../validation.js';
import { DateTime, EventId } from './common.js';
import { envelope } from './envelope.js';
import { SeverityBand } from './severity-score.js';

export const ALERT_KINDS = ['deterioration', 'observations_overdue'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_EVENT_TYPES = ['raised', 'acknowledged', 'dismissed', 'escalated', 'resolved'] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** Why a clinician dismissed an alert: a short list (no free text, so no patient details travel). */
export const DISMISS_REASONS = ['already_managed', 'expected_for_patient', 'measurement_error', 'end_of_life_care', 'not_clinically_relevant'] as const;
export type DismissReason = (typeof DISMISS_REASONS)[number];

/** Why an alert closed by itself. */
export const RESOLVE_REASONS = ['recovered', 'superseded', 'observations_taken', 'stale'] as const;
export type ResolveReason = (typeof RESOLVE_REASONS)[number];

// Spelled out (not mapped from the arrays) so each schema keeps its literal types.
export const AlertKindSchema = Type.Union([Type.Literal('deterioration'), Type.Literal('observations_overdue')]);
export const DismissReasonSchema = Type.Union([
  Type.Literal('already_managed'),
  Type.Literal('expected_for_patient'),
  Type.Literal('measurement_error'),
  Type.Literal('end_of_life_care'),
  Type.Literal('not_clinically_relevant'),
]);
export const ResolveReasonSchema = Type.Union([Type.Literal('recovered'), Type.Literal('superseded'), Type.Literal('observations_taken'), Type.Literal('stale')]);
export const AlertEventTypeSchema = Type.Union([Type.Literal('raised'), Type.Literal('acknowledged'), Type.Literal('dismissed'), Type.Literal('escalated'), Type.Literal('resolved')]);

/** Who acted (a staff or system identifier, never a patient's). */
export const AlertActor = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:@-]+$' });

export const AlertEventPayload = Type.Object(
  {
    alertId: EventId,
    type: AlertEventTypeSchema,
    kind: AlertKindSchema,
    severity: SeverityBand,
    /** Status of the alert after this event. */
    status: Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('escalated'), Type.Literal('dismissed'), Type.Literal('resolved')]),
    raisedAt: DateTime,
    unit: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    policy: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), version: Type.String({ minLength: 1, maxLength: 32 }) }, { additionalProperties: false }),
    /** The score behind this event (raised, resolved by a score), else null (a command or the clock). */
    scoreId: Type.Union([EventId, Type.Null()]),
    probability: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
    news2: Type.Union([Type.Integer({ minimum: 0, maximum: 20 }), Type.Null()]),
    reason: Type.String({ maxLength: 240, description: 'one line: why this event' }),
    /** raised: when it escalates if nobody acknowledges it (null: it never does). */
    escalateAt: Type.Union([DateTime, Type.Null()]),
    /** raised on a further rise: the alert it replaces (resolved as superseded). */
    supersedes: Type.Union([EventId, Type.Null()]),
    dismissReason: Type.Union([DismissReasonSchema, Type.Null()]),
    resolveReason: Type.Union([ResolveReasonSchema, Type.Null()]),
    actor: Type.Union([AlertActor, Type.Null()]),
    /** acknowledged: seconds from raised to acknowledged. */
    secondsToAcknowledge: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    /** observations_overdue: the last observation set, when the next was due, and the RCP interval. */
    overdue: Type.Union([
      Type.Object({ lastObservationAt: DateTime, dueAt: DateTime, intervalHours: Type.Number({ exclusiveMinimum: 0 }) }, { additionalProperties: false }),
      Type.Null(),
    ]),
  },
  { additionalProperties: false },
);
export type AlertEventPayload = Static<typeof AlertEventPayload>;

export const AlertEvent = envelope('alert_event', 1, AlertEventPayload);
export type AlertEvent = Static<typeof AlertEvent>;

const alertEventValidator = compileValidator(AlertEvent, 'alert event');

/** Bytes off ehr.alerts.v1 → a valid alert event, or why not. */
export function decodeAlertEvent(bytes: Uint8Array | string): Validation<AlertEvent> {
  const parsed = parseJson(bytes);
  return parsed.ok ? alertEventValidator.validate(parsed.value) : parsed;
}
