// Choosing a policy on validation patients only: a grid of enter thresholds (at the
// model's hourly alert rates), exit as a share of enter (hysteresis), persistence and the
// re-alert rule; the choice is the most stays alerted in time at no more alerts per
// patient-day than NEWS2 ≥ 7 raises on the same patients (an alert burden wards already
// carry), with a PPV at least NEWS2 ≥ 7's; candidates within one percentage point of the
// best sensitivity (about two stays in 200: noise) count as tied, and the tie goes to the
// fewest alerts. The test patients are never looked at here.
import type { AlertPolicy } from '@ehr/alerts';
import { countPolicy, type ReplayCounts } from './replay.js';
import type { ReplayStay } from './replay-data.js';

export interface TuningCandidate {
  enter: number;
  exitRatio: number;
  persistence: number;
  /** Re-alert: null = never during an episode (and no refractory time); else the rise as a share of enter… */
  riseRatio: number | null;
  /** …needed within this many hours of the last alert. */
  withinHours: number;
}

export interface TuningRow extends TuningCandidate {
  counts: ReplayCounts;
}

export interface TuningResult {
  /** The bound the choice respects: NEWS2 ≥ 7 on the same (validation) patients. */
  bound: { alertsPerPatientDay: number; ppv: number | null; sensitivity: number | null };
  rows: TuningRow[];
  best: TuningRow;
  policy: AlertPolicy;
}

/** Hourly alert rates whose probability thresholds are tried as enter. */
export const TUNING_RATES = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.17, 0.2];
export const TUNING_GRID = {
  exitRatio: [1, 0.75, 0.5],
  persistence: [1, 2, 3],
  reAlert: [
    { riseRatio: null, withinHours: 0 },
    { riseRatio: 0.5, withinHours: 12 },
    { riseRatio: 1, withinHours: 12 },
    { riseRatio: 0.5, withinHours: 24 },
    { riseRatio: 1, withinHours: 24 },
    { riseRatio: 0.5, withinHours: 48 },
    { riseRatio: 1, withinHours: 48 },
  ] as { riseRatio: number | null; withinHours: number }[],
};
/** Sensitivities this close to the best are a tie (one percentage point: about two stays in 200). */
export const SENSITIVITY_TIE = 0.01;

/** The probability above which `rate` of the hours lie. */
export function thresholdAtRate(stays: readonly ReplayStay[], rate: number): number {
  const p = stays.flatMap((s) => s.rows.map((r) => r.probability ?? 0)).sort((a, b) => b - a);
  const k = Math.min(p.length - 1, Math.max(0, Math.floor(rate * p.length)));
  return Math.round(p[k]! * 10_000) / 10_000;
}

export function candidatePolicy(base: AlertPolicy, c: TuningCandidate): AlertPolicy {
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    ...base,
    deterioration: {
      ...base.deterioration,
      signal: 'probability',
      enter: c.enter,
      exit: round(c.enter * c.exitRatio),
      persistence: c.persistence,
      reAlert: c.riseRatio === null ? { rise: null, withinHours: 0 } : { rise: round(c.enter * c.riseRatio), withinHours: c.withinHours },
    },
  };
}

/** Among tied candidates: fewer alerts, then a higher PPV, then more stays alerted. */
const fewer = (a: ReplayCounts, b: ReplayCounts) => a.alertsPerPatientDay - b.alertsPerPatientDay || (b.ppv ?? 0) - (a.ppv ?? 0) || (b.sensitivity ?? 0) - (a.sensitivity ?? 0);

export function tunePolicy(validation: readonly ReplayStay[], base: AlertPolicy, news2Ge7: AlertPolicy, onProgress?: (done: number, total: number) => void): TuningResult {
  const quick = { overdue: false, budget: false };
  const ref = countPolicy(validation, news2Ge7, quick);
  const enters = [...new Set(TUNING_RATES.map((r) => thresholdAtRate(validation, r)))];
  const candidates: TuningCandidate[] = [];
  for (const enter of enters) for (const exitRatio of TUNING_GRID.exitRatio) for (const persistence of TUNING_GRID.persistence) for (const r of TUNING_GRID.reAlert) candidates.push({ enter, exitRatio, persistence, ...r });
  const rows: TuningRow[] = [];
  for (const c of candidates) {
    rows.push({ ...c, counts: countPolicy(validation, candidatePolicy(base, c), quick) });
    onProgress?.(rows.length, candidates.length);
  }
  const eligible = rows.filter((r) => r.counts.alertsPerPatientDay <= ref.alertsPerPatientDay && (r.counts.ppv ?? 0) >= (ref.ppv ?? 0));
  const pool = eligible.length > 0 ? eligible : rows;
  const top = Math.max(...pool.map((r) => r.counts.sensitivity ?? 0));
  const best = pool.filter((r) => (r.counts.sensitivity ?? 0) >= top - SENSITIVITY_TIE - 1e-12).sort((a, b) => fewer(a.counts, b.counts))[0]!;
  return {
    bound: { alertsPerPatientDay: ref.alertsPerPatientDay, ppv: ref.ppv, sensitivity: ref.sensitivity },
    rows,
    best,
    policy: candidatePolicy(base, best),
  };
}

/** Sensitivity against alerts per patient-day as the enter threshold moves, the rest of the policy fixed. */
export function policyCurve(stays: readonly ReplayStay[], policy: AlertPolicy, thresholds: readonly number[]): { threshold: number; counts: ReplayCounts }[] {
  const d = policy.deterioration;
  return thresholds.map((enter) => {
    const scale = enter / d.enter;
    const p: AlertPolicy = {
      ...policy,
      deterioration: {
        ...d,
        enter,
        exit: d.exit * scale,
        reAlert: d.reAlert.rise === null ? d.reAlert : { ...d.reAlert, rise: d.reAlert.rise * scale },
      },
    };
    return { threshold: enter, counts: countPolicy(stays, p, { overdue: false, budget: false }) };
  });
}
