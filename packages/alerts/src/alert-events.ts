// A transition of the state machine as an alert event on ehr.alerts.v1. The event id is
// the alert id and the event type (each happens at most once per alert), so a replay or a
// redelivery writes the same ids and the warehouse lands each event once.
import { deterministicId, type AlertEvent } from '@ehr/features';
import type { AlertStatus } from './alert-state.js';
import type { Transition } from './machine.js';
import type { AlertPolicy } from './policy.js';

export const alertEventId = (alertId: string, type: Transition['type']): string => deterministicId('alert-event', alertId, type);

const iso = (ms: number) => new Date(ms).toISOString();

const STATUS: Readonly<Record<AlertStatus, AlertEvent['payload']['status']>> = {
  open: 'open',
  acknowledged: 'acknowledged',
  escalated: 'escalated',
  dismissed: 'dismissed',
  resolved: 'resolved',
};

const MAX_REASON = 240;

export function toAlertEvent(t: Transition, policy: Pick<AlertPolicy, 'name' | 'version'>, producedAt: Date): AlertEvent {
  return {
    schema: 'alert_event',
    schemaVersion: 1,
    eventId: alertEventId(t.alertId, t.type),
    patientId: t.patientId,
    encounterId: t.encounterId,
    occurredAt: iso(t.at),
    producedAt: producedAt.toISOString(),
    source: 'alerting-service',
    payload: {
      alertId: t.alertId,
      type: t.type,
      kind: t.kind,
      severity: t.severity,
      status: STATUS[t.status],
      raisedAt: iso(t.raisedAt),
      unit: t.unit,
      policy: { name: policy.name, version: policy.version },
      scoreId: t.scoreId,
      probability: t.probability,
      news2: t.news2,
      reason: t.reason.length > MAX_REASON ? `${t.reason.slice(0, MAX_REASON - 1)}…` : t.reason,
      escalateAt: t.type === 'raised' && t.escalateAt !== null ? iso(t.escalateAt) : null,
      supersedes: t.supersedes,
      dismissReason: t.dismissReason,
      resolveReason: t.resolveReason,
      actor: t.actor,
      secondsToAcknowledge: t.secondsToAcknowledge,
      overdue: t.overdue ? { lastObservationAt: iso(t.overdue.lastObservationAt), dueAt: iso(t.overdue.dueAt), intervalHours: t.overdue.intervalHours } : null,
    },
  };
}
