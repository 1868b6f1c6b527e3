// Sepsis criteria, organ-failure scores, ratios, lab orders and changes from the stay's
// first values (feature set 2.1.0). Written after the rest of the vector: it reads the
// latest values and windows featurize has already put there.
import { LAB_KINDS } from '../clinical/signals.js';
import { sirsCount } from '../clinical/sirs.js';
import { sofaParts, sofaTotal, type SofaParts } from '../clinical/sofa.js';
import { firstValue, HOUR_MS, SIGNAL_INDEX, type PatientState } from '../state/patient-state.js';
import { BASELINE_SIGNALS, featureIndex as ix } from './catalog.js';

const S = SIGNAL_INDEX;
const LABS = LAB_KINDS.map((k) => S[k]);
const BASELINE = BASELINE_SIGNALS.map((s) => ({ slot: ix(`${s}_change_from_first`), latest: ix(s), signal: S[s] }));
const nullable = (v: number) => (Number.isNaN(v) ? null : v);

function latestTime(state: PatientState, signal: number, at: number): number {
  const s = state.series[signal];
  const hi = s ? s.upperBound(at) : 0;
  return s && hi > 0 ? s.times[hi - 1]! : NaN;
}

/** Measured mean BP, unless the systolic BP is newer: then (SBP + 2 · DBP) / 3 (NaN if neither). */
function meanArterialPressure(out: Float64Array, state: PatientState, at: number): number {
  const measured = out[ix('mean_bp')]!;
  const computed = out[ix('mean_arterial_pressure')]!;
  if (Number.isNaN(measured)) return computed;
  return latestTime(state, S.systolic_bp, at) > latestTime(state, S.mean_bp, at) && !Number.isNaN(computed) ? computed : measured;
}

/** Lab draws (distinct result times of any lab) in [from, at], and the kinds resulted. */
function labOrders(state: PatientState, from: number, at: number): { draws: number; kinds: number } {
  const times: number[] = [];
  let kinds = 0;
  for (const i of LABS) {
    const s = state.series[i];
    if (!s) continue;
    const hi = s.upperBound(at);
    const lo = s.lowerBound(from);
    if (hi > lo) kinds++;
    for (let k = lo; k < hi; k++) times.push(s.times[k]!);
  }
  times.sort((a, b) => a - b);
  let draws = 0;
  for (let k = 0; k < times.length; k++) if (k === 0 || times[k] !== times[k - 1]) draws++;
  return { draws, kinds };
}

/** The SOFA parts a stay's first values allow (coagulation, liver, cardiovascular, renal). */
function baselineParts(state: PatientState): SofaParts {
  const sbp = firstValue(state, S.systolic_bp);
  const dbp = firstValue(state, S.diastolic_bp);
  const map = firstValue(state, S.mean_bp);
  return sofaParts({
    platelets: nullable(firstValue(state, S.platelets)),
    bilirubin: nullable(firstValue(state, S.bilirubin)),
    meanArterialPressure: nullable(Number.isNaN(map) ? (sbp + 2 * dbp) / 3 : map),
    creatinine: nullable(firstValue(state, S.creatinine)),
  });
}

const CHANGE_PARTS = ['coagulation', 'liver', 'cardiovascular', 'renal'] as const;

export function writeSepsisFeatures(out: Float64Array, state: PatientState, at: number): void {
  const v = (name: string) => nullable(out[ix(name)]!);
  out[ix('sirs_criteria')] = sirsCount({ temperature: v('temperature'), heartRate: v('heart_rate'), respiratoryRate: v('respiratory_rate'), paco2: v('paco2'), wbc: v('wbc') });

  const parts = sofaParts({
    spo2FiO2: v('spo2_fio2_ratio'),
    platelets: v('platelets'),
    bilirubin: v('bilirubin'),
    meanArterialPressure: nullable(meanArterialPressure(out, state, at)),
    creatinine: v('creatinine'),
    gcs: v('gcs'),
  });
  out[ix('sofa_respiration')] = parts.respiration ?? NaN;
  out[ix('sofa_coagulation')] = parts.coagulation ?? NaN;
  out[ix('sofa_liver')] = parts.liver ?? NaN;
  out[ix('sofa_cardiovascular')] = parts.cardiovascular ?? NaN;
  out[ix('sofa_renal')] = parts.renal ?? NaN;
  out[ix('sofa_partial')] = sofaTotal(parts);
  const base = baselineParts(state);
  let change = NaN;
  for (const p of CHANGE_PARTS) {
    const now = parts[p];
    const then = base[p];
    if (now !== null && then !== null) change = (Number.isNaN(change) ? 0 : change) + now - then;
  }
  out[ix('sofa_partial_change_from_first')] = change;

  const creatinine = out[ix('creatinine')]!;
  out[ix('bun_creatinine_ratio')] = creatinine > 0 ? out[ix('bun')]! / creatinine : NaN;
  const sbpMin = out[ix('systolic_bp_min_6h')]!;
  out[ix('shock_index_worst_6h')] = sbpMin > 0 ? out[ix('heart_rate_max_6h')]! / sbpMin : NaN;

  out[ix('lab_draws_6h')] = labOrders(state, at - 6 * HOUR_MS, at).draws;
  const day = labOrders(state, at - 24 * HOUR_MS, at);
  out[ix('lab_draws_24h')] = day.draws;
  out[ix('lab_kinds_24h')] = day.kinds;

  for (const b of BASELINE) out[b.slot] = out[b.latest]! - firstValue(state, b.signal);
}
