// A policy over real stays with the very state machine the alerting service runs, hour
// by hour (the clock ticks before each hour's score), and what a ward would have lived
// with: alerts per patient-day, the share of stays with the outcome alerted in time,
// how many alerts were in time (PPV), how early, and how many alerts each part of the
// policy (persistence, hysteresis, the re-alert rule, the budget) removed.
import { AlertEngine, type AlertPolicy } from '@ehr/alerts';
import { median, round4 as r4 } from '@ehr/model';
import type { ReplayStay } from './replay-data.js';

const HOUR = 3_600_000;

export interface ReplayOptions {
  /** An alert up to this long before onset counts as in time (default 48 h, as npm run evaluate). */
  leadWindowHours?: number;
  /** Replay the unit budget (only meaningful when the data has real dates; default true). */
  budget?: boolean;
  /** Also raise and count overdue-observation alerts (default true). The clock ticks before every hour either way (escalation, patients who left). */
  overdue?: boolean;
}

export interface ReplayCounts {
  stays: number;
  patientDays: number;
  /** Deterioration alerts raised. */
  alerts: number;
  alertsPerPatientDay: number;
  /** Stays with the outcome. */
  eventStays: number;
  /** Of those, stays with an alert within the lead window before onset. */
  staysAlerted: number;
  sensitivity: number | null;
  /** Alerts within the lead window before onset / all alerts. */
  inTime: number;
  /** Alerts after onset in a stay with the outcome (right, but not early). */
  late: number;
  ppv: number | null;
  /** Median over alerted stays of hours from the first in-time alert to onset. */
  medianLeadHours: number | null;
  overdueAlerts: number;
  overduePerPatientDay: number;
}

export interface ReplayResult extends ReplayCounts {
  policy: { name: string; version: string };
  /** Alerts removed by each part of the policy, in the order they apply (negative: that part added alerts, e.g. re-alerts on a rise). */
  removed: { persistence: number; hysteresis: number; reAlert: number; budget: number | null; thresholdOnlyAlerts: number };
  /** Whether the unit budget was replayed: the policy has none, or the data has no dates to count days by. */
  budget: 'replayed' | 'no budget' | 'not replayed (no dates)';
}

/** The policy over every stay; deterioration alerts and overdue alerts counted. */
export function countPolicy(stays: readonly ReplayStay[], policy: AlertPolicy, options: ReplayOptions = {}): ReplayCounts {
  const window = (options.leadWindowHours ?? 48) * HOUR;
  const overdue = options.overdue ?? true;
  const engine = new AlertEngine(options.budget === false ? { ...policy, budget: { ...policy.budget, perUnitPerDay: null } } : policy);
  let hours = 0;
  let alerts = 0;
  let inTime = 0;
  let late = 0;
  let eventStays = 0;
  let staysAlerted = 0;
  let overdueAlerts = 0;
  const leads: number[] = [];
  // With a budget the units' days interleave: every stay's hours in time order.
  const timeline = engine.budget.limit === null ? null : stays.flatMap((stay, s) => stay.rows.map((row, h) => ({ s, h, at: row.at }))).sort((a, b) => a.at - b.at || a.s - b.s || a.h - b.h);
  const firstInTime = new Map<number, number>();

  const step = (s: number, h: number) => {
    const stay = stays[s]!;
    const row = stay.rows[h]!;
    const id = `${s}`;
    for (const t of engine.tickPatient(id, row.at, { overdue }).transitions) if (t.type === 'raised' && t.kind === 'observations_overdue') overdueAlerts++;
    const { transitions } = engine.applyScore({ scoreId: `${s}:${h}`, patientId: id, encounterId: null, unit: stay.unit, ...row }, null);
    for (const t of transitions) {
      if (t.type !== 'raised' || t.kind !== 'deterioration') continue;
      alerts++;
      if (stay.onset === null) continue;
      if (t.at <= stay.onset && t.at >= stay.onset - window) {
        inTime++;
        if (!firstInTime.has(s)) firstInTime.set(s, t.at);
      } else if (t.at > stay.onset) late++;
    }
  };
  if (timeline) for (const { s, h } of timeline) step(s, h);
  else stays.forEach((stay, s) => stay.rows.forEach((_, h) => step(s, h)));

  stays.forEach((stay, s) => {
    hours += stay.rows.length;
    if (stay.onset === null) return;
    eventStays++;
    const first = firstInTime.get(s);
    if (first !== undefined) {
      staysAlerted++;
      leads.push((stay.onset - first) / HOUR);
    }
  });
  const patientDays = hours / 24;
  return {
    stays: stays.length,
    patientDays: r4(patientDays),
    alerts,
    alertsPerPatientDay: r4(alerts / Math.max(patientDays, 1e-9)),
    eventStays,
    staysAlerted,
    sensitivity: eventStays ? r4(staysAlerted / eventStays) : null,
    inTime,
    late,
    ppv: alerts ? r4(inTime / alerts) : null,
    medianLeadHours: median(leads),
    overdueAlerts,
    overduePerPatientDay: r4(overdueAlerts / Math.max(patientDays, 1e-9)),
  };
}

type Deterioration = AlertPolicy['deterioration'];
const variant = (policy: AlertPolicy, d: Partial<Deterioration>, budget: boolean): AlertPolicy => ({
  ...policy,
  deterioration: { ...policy.deterioration, ...d },
  budget: budget ? policy.budget : { ...policy.budget, perUnitPerDay: null },
});

/** The policy, and the same policy built up part by part, so each part's removed alerts are counted. */
export function replayPolicy(stays: readonly ReplayStay[], policy: AlertPolicy, options: ReplayOptions = {}): ReplayResult {
  const d = policy.deterioration;
  const noReAlert = { rise: null, withinHours: 0 };
  const quick = { ...options, overdue: false };
  const threshold = countPolicy(stays, variant(policy, { persistence: 1, exit: d.enter, reAlert: noReAlert, news2Floor: d.news2Floor && { ...d.news2Floor, exit: d.news2Floor.enter } }, false), quick).alerts;
  const persistence = countPolicy(stays, variant(policy, { exit: d.enter, reAlert: noReAlert, news2Floor: d.news2Floor && { ...d.news2Floor, exit: d.news2Floor.enter } }, false), quick).alerts;
  const hysteresis = countPolicy(stays, variant(policy, { reAlert: noReAlert }, false), quick).alerts;
  const withoutBudget = countPolicy(stays, variant(policy, {}, false), quick).alerts;
  const budget = policy.budget.perUnitPerDay === null ? 'no budget' : options.budget === false ? 'not replayed (no dates)' : 'replayed';
  const budgetReplayed = budget === 'replayed';
  const full = countPolicy(stays, policy, options);
  return {
    policy: { name: policy.name, version: policy.version },
    ...full,
    removed: {
      thresholdOnlyAlerts: threshold,
      persistence: threshold - persistence,
      hysteresis: persistence - hysteresis,
      reAlert: hysteresis - withoutBudget,
      budget: budgetReplayed ? withoutBudget - full.alerts : null,
    },
    budget,
  };
}
