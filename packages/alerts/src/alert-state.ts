// What the alert policy remembers about one patient between scores: the run of scores
// above the enter threshold (persistence), whether an alert episode is open (hysteresis),
// the level of the last alert (re-alert only on a further rise), the latest score (the
// observation clock), and the patient's open alerts. Times are epoch milliseconds.
import type { AlertKind, DismissReason, ResolveReason, SeverityBand } from '@ehr/features';
import type { ScoreReadings } from './score-input.js';

export type OpenStatus = 'open' | 'acknowledged' | 'escalated';
export type ClosedStatus = 'dismissed' | 'resolved';
export type AlertStatus = OpenStatus | ClosedStatus;

export interface OverdueDetail {
  lastObservationAt: number;
  dueAt: number;
  intervalHours: number;
}

export interface OpenAlert {
  alertId: string;
  kind: AlertKind;
  severity: SeverityBand;
  status: OpenStatus;
  raisedAt: number;
  /** When it escalates if still unacknowledged (null: it never does). */
  escalateAt: number | null;
  escalatedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  /** The score that raised it (null for an overdue alert, which the clock raised). */
  scoreId: string | null;
  /** The policy's signal when raised (null when the NEWS2 floor raised it without one). */
  level: number | null;
  probability: number | null;
  news2: number | null;
  unit: string | null;
  reason: string;
  overdue: OverdueDetail | null;
}

/** A closed alert kept briefly, so a late acknowledge or dismiss gets a clear answer. */
export interface ClosedAlert {
  alertId: string;
  kind: AlertKind;
  severity: SeverityBand;
  status: ClosedStatus;
  raisedAt: number;
  closedAt: number;
  dismissReason: DismissReason | null;
  resolveReason: ResolveReason | null;
  actor: string | null;
  unit: string | null;
  /** As when raised, so a repeated command gets back exactly the event it made. */
  probability: number | null;
  news2: number | null;
  overdue: OverdueDetail | null;
}

export interface LatestScore extends ScoreReadings {
  scoreId: string;
}

export interface PatientAlertState {
  patientId: string;
  encounterId: string | null;
  unit: string | null;
  /** Consecutive scores at or above the enter threshold. */
  streak: number;
  /** An alert episode is open: raised, and the signal has not yet fallen below exit. */
  episode: boolean;
  /** The last deterioration alert raised: its level and time (re-alert on a further rise). */
  lastAlert: { level: number | null; at: number } | null;
  latest: LatestScore | null;
  /** The observation set an overdue alert was last raised for (never twice for one set). */
  overdueFor: number | null;
  alerts: OpenAlert[];
  closed: ClosedAlert[];
  /** The last score applied, by bus position: a redelivered score is not applied twice. */
  applied: { partition: number; offset: string } | null;
}

/** Closed alerts remembered per patient. */
export const CLOSED_KEPT = 8;

export function newPatientState(patientId: string, encounterId: string | null, unit: string | null): PatientAlertState {
  return { patientId, encounterId, unit, streak: 0, episode: false, lastAlert: null, latest: null, overdueFor: null, alerts: [], closed: [], applied: null };
}
