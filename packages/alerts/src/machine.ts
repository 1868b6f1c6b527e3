// The alert policy as a pure state machine, one patient at a time: (state, input, policy) →
// (new state, transitions). Inputs are a score, the clock (tick) and a clinician's command
// (acknowledge, dismiss); time is always passed in, never read, so escalation and overdue
// observations are tested with a fake clock and replayed hour by hour over real data. The
// given state is never modified. Ids derive from the patient, the alert kind and the score
// (or observation set) that caused an alert, so the same inputs give the same ids.
//
// One alert's life:   open ──ack──► acknowledged ──► resolved
//                       │ └─30 min unacknowledged─► escalated ──ack──► acknowledged
//                       └──dismiss (any open status)──► dismissed
//                       └──signal below exit / a further rise / new observations / stale──► resolved
import { deterministicId, type AlertEventType, type AlertKind, type DismissReason, type ResolveReason, type SeverityBand } from '@ehr/features';
import { CLOSED_KEPT, newPatientState, type AlertStatus, type ClosedAlert, type OpenAlert, type OverdueDetail, type PatientAlertState } from './alert-state.js';
import type { AlertBudget } from './budget.js';
import { observationIntervalHours, observationTier, TIER_LABELS } from './observation-frequency.js';
import type { AlertPolicy } from './policy.js';
import type { ScoreInput } from './score-input.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Floating-point slack for "at least this far above". */
const EPSILON = 1e-9;

/** One thing that happened to one alert: the alerting service turns it into an alert event. */
export interface Transition {
  type: AlertEventType;
  patientId: string;
  encounterId: string | null;
  at: number;
  alertId: string;
  kind: AlertKind;
  severity: SeverityBand;
  /** The alert's status after this transition. */
  status: AlertStatus;
  raisedAt: number;
  unit: string | null;
  escalateAt: number | null;
  overdue: OverdueDetail | null;
  /** The score behind it (raised or resolved by a score), else null. */
  scoreId: string | null;
  /** Of the score behind it; for the clock's and a clinician's transitions, the alert's at raise. */
  probability: number | null;
  news2: number | null;
  reason: string;
  supersedes: string | null;
  dismissReason: DismissReason | null;
  resolveReason: ResolveReason | null;
  actor: string | null;
  secondsToAcknowledge: number | null;
  /** Whether the alert had been acknowledged by then (the share acknowledged is counted on closing). */
  acknowledged: boolean;
}

/** Why a score above the enter threshold raised nothing. */
export type HeldReason = 'persistence' | 'refractory' | 'budget';

export interface ScoreOutcome {
  state: PatientAlertState;
  transitions: Transition[];
  held: HeldReason | null;
  /** A deterioration alert was raised: the caller records it against the unit's budget. */
  spentBudget: boolean;
}

export interface TickOutcome {
  state: PatientAlertState;
  transitions: Transition[];
  /** The patient has left (no score for staleAfterHours): drop the state. */
  evict: boolean;
}

export type CommandOutcome =
  | { kind: 'applied'; state: PatientAlertState; transition: Transition }
  /** The same command was already applied: the transition it made, unchanged. */
  | { kind: 'unchanged'; transition: Transition }
  | { kind: 'closed'; closed: ClosedAlert }
  | { kind: 'not_found' };

const pct = (p: number) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)} %`;

function describeLevel(policy: AlertPolicy, level: number): string {
  return policy.deterioration.signal === 'probability' ? `model risk ${pct(level)}` : `NEWS2 ${level}`;
}

function describeThreshold(policy: AlertPolicy, value: number): string {
  return policy.deterioration.signal === 'probability' ? pct(value) : String(value);
}

function transitionOf(
  type: AlertEventType,
  state: PatientAlertState,
  alert: OpenAlert | ClosedAlert,
  status: AlertStatus,
  at: number,
  extra: Partial<Pick<Transition, 'scoreId' | 'probability' | 'news2' | 'reason' | 'supersedes' | 'dismissReason' | 'resolveReason' | 'actor' | 'secondsToAcknowledge'>> = {},
): Transition {
  const open = 'escalateAt' in alert ? alert : null;
  return {
    type,
    patientId: state.patientId,
    encounterId: state.encounterId,
    at,
    alertId: alert.alertId,
    kind: alert.kind,
    severity: alert.severity,
    status,
    raisedAt: alert.raisedAt,
    unit: alert.unit,
    escalateAt: open?.escalateAt ?? null,
    overdue: alert.overdue,
    scoreId: extra.scoreId ?? null,
    probability: extra.probability !== undefined ? extra.probability : alert.probability,
    news2: extra.news2 !== undefined ? extra.news2 : alert.news2,
    reason: extra.reason ?? open?.reason ?? '',
    supersedes: extra.supersedes ?? null,
    dismissReason: extra.dismissReason ?? null,
    resolveReason: extra.resolveReason ?? null,
    actor: extra.actor ?? null,
    secondsToAcknowledge: extra.secondsToAcknowledge ?? null,
    acknowledged: status === 'acknowledged' || (open?.acknowledgedAt ?? null) !== null,
  };
}

/** The state without `alert` among its open alerts, and with it among the recently closed. */
function withClosed(state: PatientAlertState, alert: OpenAlert, closed: ClosedAlert): PatientAlertState {
  return { ...state, alerts: state.alerts.filter((a) => a.alertId !== alert.alertId), closed: [...state.closed, closed].slice(-CLOSED_KEPT) };
}

function resolve(state: PatientAlertState, alert: OpenAlert, at: number, reason: ResolveReason, line: string, out: Transition[], score?: ScoreInput): PatientAlertState {
  const closed: ClosedAlert = { alertId: alert.alertId, kind: alert.kind, severity: alert.severity, status: 'resolved', raisedAt: alert.raisedAt, closedAt: at, dismissReason: null, resolveReason: reason, actor: null, unit: alert.unit, probability: alert.probability, news2: alert.news2, overdue: alert.overdue };
  out.push(
    transitionOf('resolved', state, alert, 'resolved', at, {
      resolveReason: reason,
      reason: line,
      ...(score ? { scoreId: score.scoreId, probability: score.probability, news2: score.news2 } : {}),
    }),
  );
  return withClosed(state, alert, closed);
}

const escalateAtFor = (policy: AlertPolicy, severity: SeverityBand, raisedAt: number) =>
  policy.escalation.severities.includes(severity) ? raisedAt + policy.escalation.afterMinutes * MINUTE : null;

/** A further rise over the last alert: the only way to alert again during an episode or soon after one. */
function roseFurther(policy: AlertPolicy, level: number | null, last: PatientAlertState['lastAlert']): boolean {
  const rise = policy.deterioration.reAlert.rise;
  return rise !== null && level !== null && last !== null && last.level !== null && level >= last.level + rise - EPSILON;
}

/** Folds one score into the patient's alert state. */
export function applyScore(prev: PatientAlertState | undefined, input: ScoreInput, policy: AlertPolicy, budget: Pick<AlertBudget, 'allows'>): ScoreOutcome {
  const base = prev ?? newPatientState(input.patientId, input.encounterId, input.unit);
  let state: PatientAlertState = {
    ...base,
    encounterId: input.encounterId ?? base.encounterId,
    unit: input.unit ?? base.unit,
    latest: { scoreId: input.scoreId, at: input.at, probability: input.probability, news2: input.news2, news2Band: input.news2Band, band: input.band, observedAt: input.observedAt },
  };
  const out: Transition[] = [];

  // A newer set of observations answers an overdue alert.
  const overdue = state.alerts.find((a) => a.kind === 'observations_overdue');
  if (overdue?.overdue && input.observedAt !== null && input.observedAt > overdue.overdue.lastObservationAt) {
    state = resolve(state, overdue, input.at, 'observations_taken', 'a new set of observations was charted', out, input);
  }

  const d = policy.deterioration;
  const level = d.signal === 'probability' ? input.probability : input.news2;
  const floor = d.news2Floor;
  const news2 = input.news2;
  // No probability (no model) and no NEWS2 floor: this score says nothing about deterioration.
  if (level === null && (floor === null || news2 === null)) return { state, transitions: out, held: null, spentBudget: false };

  const floorAbove = floor !== null && news2 !== null && news2 >= floor.enter;
  const above = (level !== null && level >= d.enter - EPSILON) || floorAbove;
  const below = !(level !== null && level >= d.exit - EPSILON) && !(floor !== null && news2 !== null && news2 >= floor.exit);
  state.streak = above ? state.streak + 1 : 0;
  const current = state.alerts.find((a) => a.kind === 'deterioration');

  if (state.episode) {
    if (below) {
      state.episode = false;
      if (current) {
        const why = level !== null ? `${describeLevel(policy, level)} below ${describeThreshold(policy, d.exit)}` : `NEWS2 ${news2} below ${floor?.exit}`;
        state = resolve(state, current, input.at, 'recovered', why, out, input);
      }
      return { state, transitions: out, held: null, spentBudget: false };
    }
    if (!roseFurther(policy, level, state.lastAlert)) return { state, transitions: out, held: null, spentBudget: false };
  } else if (!above) {
    return { state, transitions: out, held: null, spentBudget: false };
  } else if (state.streak < d.persistence) {
    return { state, transitions: out, held: 'persistence', spentBudget: false };
  } else if (state.lastAlert && input.at - state.lastAlert.at < d.reAlert.withinHours * HOUR && !roseFurther(policy, level, state.lastAlert)) {
    return { state, transitions: out, held: 'refractory', spentBudget: false };
  }

  // Raise (or raise again on a further rise, replacing the open alert).
  const severity = input.band;
  if (!budget.allows(state.unit, input.at, severity)) return { state, transitions: out, held: 'budget', spentBudget: false };
  const rising = state.episode && state.lastAlert !== null;
  let supersedes: string | null = null;
  if (current) {
    supersedes = current.alertId;
    state = resolve(state, current, input.at, 'superseded', `replaced by a new alert: ${level !== null ? describeLevel(policy, level) : `NEWS2 ${news2}`} rose further`, out, input);
  }
  const reason = rising
    ? `${describeLevel(policy, level!)} rose further from ${describeLevel(policy, state.lastAlert!.level!)} (≥ +${describeThreshold(policy, d.reAlert.rise!)})`
    : level !== null && level >= d.enter - EPSILON
      ? `${describeLevel(policy, level)} ≥ ${describeThreshold(policy, d.enter)}${state.streak > 1 ? ` for ${state.streak} consecutive scores` : ''}`
      : `NEWS2 ${news2} ≥ ${floor!.enter} (the policy's NEWS2 floor)`;
  const alert: OpenAlert = {
    alertId: deterministicId('alert', input.patientId, 'deterioration', input.scoreId),
    kind: 'deterioration',
    severity,
    status: 'open',
    raisedAt: input.at,
    escalateAt: escalateAtFor(policy, severity, input.at),
    escalatedAt: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    scoreId: input.scoreId,
    level,
    probability: input.probability,
    news2,
    unit: state.unit,
    reason,
    overdue: null,
  };
  state = { ...state, episode: true, lastAlert: { level, at: input.at }, alerts: [...state.alerts, alert] };
  out.push(transitionOf('raised', state, alert, 'open', input.at, { scoreId: input.scoreId, probability: input.probability, news2, reason, supersedes }));
  return { state, transitions: out, held: null, spentBudget: true };
}

/** The clock: escalations that fell due, overdue observations, a patient who has left. */
export function tick(prev: PatientAlertState, now: number, policy: AlertPolicy, options: { overdue?: boolean } = {}): TickOutcome {
  let state = prev;
  const out: Transition[] = [];

  const latest = state.latest;
  if (latest && now - latest.at >= policy.staleAfterHours * HOUR) {
    const at = latest.at + policy.staleAfterHours * HOUR;
    for (const alert of prev.alerts) state = resolve(state, alert, at, 'stale', `no score for ${policy.staleAfterHours} h: the patient has left`, out);
    return { state, transitions: out, evict: true };
  }

  for (const alert of prev.alerts) {
    if (alert.status !== 'open' || alert.escalateAt === null || alert.escalateAt > now) continue;
    const escalated: OpenAlert = { ...alert, status: 'escalated', escalatedAt: alert.escalateAt };
    state = { ...state, alerts: state.alerts.map((a) => (a.alertId === alert.alertId ? escalated : a)) };
    out.push(transitionOf('escalated', state, escalated, 'escalated', alert.escalateAt, { reason: `not acknowledged within ${policy.escalation.afterMinutes} min` }));
  }

  if ((options.overdue ?? true) && policy.overdue.enabled && latest && latest.observedAt !== null && state.overdueFor !== latest.observedAt && !state.alerts.some((a) => a.kind === 'observations_overdue')) {
    const interval = observationIntervalHours(policy, latest.news2, latest.news2Band);
    if (interval !== null) {
      const dueAt = latest.observedAt + interval * HOUR;
      const flagAt = dueAt + policy.overdue.graceMinutes * MINUTE;
      if (now >= flagAt) {
        const tier = TIER_LABELS[observationTier(latest.news2!, latest.news2Band)];
        const overdue: OverdueDetail = { lastObservationAt: latest.observedAt, dueAt, intervalHours: interval };
        const alert: OpenAlert = {
          alertId: deterministicId('alert', state.patientId, 'observations_overdue', latest.observedAt),
          kind: 'observations_overdue',
          severity: latest.band,
          status: 'open',
          raisedAt: flagAt,
          escalateAt: escalateAtFor(policy, latest.band, flagAt),
          escalatedAt: null,
          acknowledgedAt: null,
          acknowledgedBy: null,
          scoreId: null,
          level: null,
          probability: latest.probability,
          news2: latest.news2,
          unit: state.unit,
          reason: `${tier} (NEWS2 ${latest.news2}): observations due every ${interval} h; the next set was due at ${new Date(dueAt).toISOString()}`,
          overdue,
        };
        state = { ...state, overdueFor: latest.observedAt, alerts: [...state.alerts, alert] };
        out.push(transitionOf('raised', state, alert, 'open', flagAt, { reason: alert.reason }));
      }
    }
  }
  return { state, transitions: out, evict: false };
}

function findAlert(state: PatientAlertState, alertId: string): { open: OpenAlert } | { closed: ClosedAlert } | null {
  const open = state.alerts.find((a) => a.alertId === alertId);
  if (open) return { open };
  const closed = state.closed.find((a) => a.alertId === alertId);
  return closed ? { closed } : null;
}

const secondsBetween = (from: number, to: number) => Math.max(0, Math.round((to - from) / 100) / 10);

/** A clinician has seen the alert: it stops escalating and stays open until it resolves. */
export function acknowledge(state: PatientAlertState, alertId: string, at: number, actor: string | null): CommandOutcome {
  const found = findAlert(state, alertId);
  if (!found) return { kind: 'not_found' };
  if ('closed' in found) return { kind: 'closed', closed: found.closed };
  const alert = found.open;
  if (alert.status === 'acknowledged') {
    const when = alert.acknowledgedAt!;
    return { kind: 'unchanged', transition: transitionOf('acknowledged', state, alert, 'acknowledged', when, { actor: alert.acknowledgedBy, secondsToAcknowledge: secondsBetween(alert.raisedAt, when), reason: 'acknowledged' }) };
  }
  const acknowledged: OpenAlert = { ...alert, status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: actor };
  const next = { ...state, alerts: state.alerts.map((a) => (a.alertId === alertId ? acknowledged : a)) };
  return {
    kind: 'applied',
    state: next,
    transition: transitionOf('acknowledged', next, acknowledged, 'acknowledged', at, { actor, secondsToAcknowledge: secondsBetween(alert.raisedAt, at), reason: 'acknowledged' }),
  };
}

/**
 * A clinician judged the alert not actionable, with a reason from the short list. The episode
 * goes on: no new alert until the signal falls below exit, or rises further.
 */
export function dismiss(state: PatientAlertState, alertId: string, reason: DismissReason, at: number, actor: string | null): CommandOutcome {
  const found = findAlert(state, alertId);
  if (!found) return { kind: 'not_found' };
  if ('closed' in found) {
    const c = found.closed;
    if (c.status === 'dismissed' && c.dismissReason === reason) {
      return { kind: 'unchanged', transition: transitionOf('dismissed', state, c, 'dismissed', c.closedAt, { dismissReason: reason, actor: c.actor, reason: `dismissed: ${reason}` }) };
    }
    return { kind: 'closed', closed: c };
  }
  const alert = found.open;
  const closed: ClosedAlert = { alertId, kind: alert.kind, severity: alert.severity, status: 'dismissed', raisedAt: alert.raisedAt, closedAt: at, dismissReason: reason, resolveReason: null, actor, unit: alert.unit, probability: alert.probability, news2: alert.news2, overdue: alert.overdue };
  const next = withClosed(state, alert, closed);
  return { kind: 'applied', state: next, transition: transitionOf('dismissed', next, alert, 'dismissed', at, { dismissReason: reason, actor, reason: `dismissed: ${reason}` }) };
}
