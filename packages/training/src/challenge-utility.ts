// The PhysioNet/CinC 2019 utility (Reyna et al., Crit Care Med 2020; constants as in
// ../shared/docs/clinical-reference.md). Per stay and hour t, with onset t_s = the first
// hour labelled 1 plus 6: an alarm in a septic stay earns max(−0.05, (t − t_s + 12) / 6) up to
// t_s − 6, then falls linearly from 1 to 0 at t_s + 3; silence costs 0 up to t_s − 6, then
// falls to −2 at t_s + 3; after t_s + 3 nothing counts. In a non-septic stay an alarm costs
// 0.05. Normalised: (U − U_inaction) / (U_best − U_inaction).

export const UTILITY = { early: -12, optimal: -6, late: 3, truePositiveMax: 1, falseNegativeMin: -2, falsePositive: -0.05, trueNegative: 0 } as const;

/** Hours the Challenge's label leads the clinical onset by. */
export const LABEL_LEAD_HOURS = 6;

const m1 = UTILITY.truePositiveMax / (UTILITY.optimal - UTILITY.early);
const b1 = -m1 * UTILITY.early;
const m2 = -UTILITY.truePositiveMax / (UTILITY.late - UTILITY.optimal);
const b2 = -m2 * UTILITY.late;
const m3 = UTILITY.falseNegativeMin / (UTILITY.late - UTILITY.optimal);
const b3 = -m3 * UTILITY.optimal;

/** Utility of one hour: alarm or not, at hour t of a stay with onset tSepsis (Infinity when not septic). */
export function hourUtility(t: number, tSepsis: number, alarm: boolean): number {
  const septic = Number.isFinite(tSepsis);
  if (t > tSepsis + UTILITY.late) return 0;
  if (!septic) return alarm ? UTILITY.falsePositive : UTILITY.trueNegative;
  const d = t - tSepsis;
  if (alarm) return t <= tSepsis + UTILITY.optimal ? Math.max(m1 * d + b1, UTILITY.falsePositive) : m2 * d + b2;
  return t <= tSepsis + UTILITY.optimal ? 0 : m3 * d + b3;
}

/** Rows grouped by stay: onset per stay (Infinity if never labelled 1). */
export function stayOnsets(y: ArrayLike<number>, patientOf: ArrayLike<number>, hourOf: ArrayLike<number>): Map<number, number> {
  const first = new Map<number, number>();
  for (let i = 0; i < y.length; i++) {
    const p = patientOf[i]!;
    if (!first.has(p)) first.set(p, Infinity);
    if (y[i] === 1 && hourOf[i]! < first.get(p)!) first.set(p, hourOf[i]!);
  }
  for (const [p, h] of first) first.set(p, h + LABEL_LEAD_HOURS);
  return first;
}

export interface RowUtilities {
  /** Utility of each row with an alarm, and without. */
  ifAlarm: Float64Array;
  ifSilent: Float64Array;
  /** Σ best and Σ inaction over the rows. */
  best: number;
  inaction: number;
}

export function rowUtilities(y: ArrayLike<number>, patientOf: ArrayLike<number>, hourOf: ArrayLike<number>): RowUtilities {
  const onsets = stayOnsets(y, patientOf, hourOf);
  const n = y.length;
  const ifAlarm = new Float64Array(n);
  const ifSilent = new Float64Array(n);
  let best = 0;
  let inaction = 0;
  for (let i = 0; i < n; i++) {
    const ts = onsets.get(patientOf[i]!)!;
    const t = hourOf[i]!;
    ifAlarm[i] = hourUtility(t, ts, true);
    ifSilent[i] = hourUtility(t, ts, false);
    // The Challenge's best alarms from t_s − 12 to t_s + 3 in septic stays only.
    const bestAlarm = Number.isFinite(ts) && t >= ts + UTILITY.early && t <= ts + UTILITY.late;
    best += bestAlarm ? ifAlarm[i]! : ifSilent[i]!;
    inaction += ifSilent[i]!;
  }
  return { ifAlarm, ifSilent, best, inaction };
}

export interface UtilityScore {
  observed: number;
  best: number;
  inaction: number;
  /** (observed − inaction) / (best − inaction). */
  normalized: number;
}

/** Normalised utility of binary alarms (alarm(i) true) over the rows. */
export function normalizedUtility(u: RowUtilities, alarm: (i: number) => boolean): UtilityScore {
  let observed = 0;
  for (let i = 0; i < u.ifAlarm.length; i++) observed += alarm(i) ? u.ifAlarm[i]! : u.ifSilent[i]!;
  return { observed, best: u.best, inaction: u.inaction, normalized: (observed - u.inaction) / (u.best - u.inaction) };
}

/**
 * The probability threshold (alarm when p ≥ t) with the highest total utility on these rows:
 * exact over every distinct score (rows sorted once, gains summed).
 */
export function bestUtilityThreshold(u: RowUtilities, p: ArrayLike<number>): { threshold: number; utility: UtilityScore } {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  let gain = 0;
  let bestGain = 0;
  let threshold = Infinity;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    gain += u.ifAlarm[i]! - u.ifSilent[i]!;
    const last = k + 1 === order.length || p[order[k + 1]!] !== p[i];
    if (last && gain > bestGain) {
      bestGain = gain;
      threshold = p[i]!;
    }
  }
  const observed = u.inaction + bestGain;
  return { threshold, utility: { observed, best: u.best, inaction: u.inaction, normalized: (observed - u.inaction) / (u.best - u.inaction) } };
}
