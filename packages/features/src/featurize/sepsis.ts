// Sepsis criteria, organ-failure scores, ratios and changes from the stay's
// first values (feature set 2.1.0). Written after the rest of the vector: it reads the
// latest values and windows featurize has already put there.
import { sirsCount } from '../clinical/sirs.js';
import { sofaParts, sofaTotal, type SofaParts } from '../clinical/sofa.js';
import { firstValue, SIGNAL_INDEX, type PatientState } from '../state/patient-state.js';
import { BASELINE_SIGNALS, featureIndex as ix } from './catalog.js';

const S = SIGNAL_INDEX;
const BASELINE = BASELINE_SIGNALS.map((s) => ({ slot: ix(`${s}_change_from_first`), latest: ix(s), signal: S[s] }));
const nullable = (v: number) => (Number.isNaN(v) ? null : v);
// Slots, looked up once.
const SLOT_NAMES = ['bilirubin', 'bun', 'bun_creatinine_ratio', 'creatinine', 'gcs', 'heart_rate', 'heart_rate_max_6h', 'mean_arterial_pressure', 'mean_bp', 'paco2', 'platelets', 'respiratory_rate', 'shock_index_worst_6h', 'sirs_criteria', 'sofa_cardiovascular', 'sofa_coagulation', 'sofa_liver', 'sofa_partial', 'sofa_partial_change_from_first', 'sofa_renal', 'sofa_respiration', 'spo2_fio2_ratio', 'systolic_bp_min_6h', 'temperature', 'wbc'] as const;
const SLOT = Object.fromEntries(SLOT_NAMES.map((n) => [n, ix(n)])) as Record<(typeof SLOT_NAMES)[number], number>;

function latestTime(state: PatientState, signal: number, at: number): number {
  const s = state.series[signal];
  const hi = s ? s.upperBound(at) : 0;
  return s && hi > 0 ? s.times[hi - 1]! : NaN;
}

/** Measured mean BP, unless the systolic BP is newer: then (SBP + 2 · DBP) / 3 (NaN if neither). */
function meanArterialPressure(out: Float64Array, state: PatientState, at: number): number {
  const measured = out[SLOT.mean_bp]!;
  const computed = out[SLOT.mean_arterial_pressure]!;
  if (Number.isNaN(measured)) return computed;
  return latestTime(state, S.systolic_bp, at) > latestTime(state, S.mean_bp, at) && !Number.isNaN(computed) ? computed : measured;
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
  const v = (slot: number) => nullable(out[slot]!);
  out[SLOT.sirs_criteria] = sirsCount({ temperature: v(SLOT.temperature), heartRate: v(SLOT.heart_rate), respiratoryRate: v(SLOT.respiratory_rate), paco2: v(SLOT.paco2), wbc: v(SLOT.wbc) });

  const parts = sofaParts({
    spo2FiO2: v(SLOT.spo2_fio2_ratio),
    platelets: v(SLOT.platelets),
    bilirubin: v(SLOT.bilirubin),
    meanArterialPressure: nullable(meanArterialPressure(out, state, at)),
    creatinine: v(SLOT.creatinine),
    gcs: v(SLOT.gcs),
  });
  out[SLOT.sofa_respiration] = parts.respiration ?? NaN;
  out[SLOT.sofa_coagulation] = parts.coagulation ?? NaN;
  out[SLOT.sofa_liver] = parts.liver ?? NaN;
  out[SLOT.sofa_cardiovascular] = parts.cardiovascular ?? NaN;
  out[SLOT.sofa_renal] = parts.renal ?? NaN;
  out[SLOT.sofa_partial] = sofaTotal(parts);
  const base = baselineParts(state);
  let change = NaN;
  for (const p of CHANGE_PARTS) {
    const now = parts[p];
    const then = base[p];
    if (now !== null && then !== null) change = (Number.isNaN(change) ? 0 : change) + now - then;
  }
  out[SLOT.sofa_partial_change_from_first] = change;

  const creatinine = out[SLOT.creatinine]!;
  out[SLOT.bun_creatinine_ratio] = creatinine > 0 ? out[SLOT.bun]! / creatinine : NaN;
  const sbpMin = out[SLOT.systolic_bp_min_6h]!;
  out[SLOT.shock_index_worst_6h] = sbpMin > 0 ? out[SLOT.heart_rate_max_6h]! / sbpMin : NaN;

  for (const b of BASELINE) out[b.slot] = out[b.latest]! - firstValue(state, b.signal);
}
