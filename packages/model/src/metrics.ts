// Binary-classification metrics. Scores: higher = more likely positive. Labels: 0/1.
// A row is predicted positive at threshold t when score >= t.

function check(y: ArrayLike<number>, p: ArrayLike<number>): void {
  if (y.length !== p.length) throw new RangeError(`labels (${y.length}) and scores (${p.length}) differ in length`);
  if (y.length === 0) throw new RangeError('no rows');
  for (let i = 0; i < p.length; i++) if (Number.isNaN(p[i])) throw new RangeError(`score ${i} is NaN`);
}

/** Row indices sorted by descending score (stable by index). */
function byScoreDesc(p: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(p.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => p[b]! - p[a]! || a - b);
}

/** Area under the ROC curve; tied scores count 1/2 (Mann–Whitney with mid-ranks). NaN if one class is absent. */
export function auroc(y: ArrayLike<number>, p: ArrayLike<number>): number {
  check(y, p);
  const idx = byScoreDesc(p);
  let nPos = 0;
  for (let i = 0; i < y.length; i++) nPos += y[i] === 1 ? 1 : 0;
  const nNeg = y.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  // Count, for each positive, the negatives scored strictly below it plus half the tied ones.
  let negBelowSum = 0;
  let negSeen = 0; // negatives with a strictly higher score than the current group
  let i = 0;
  while (i < idx.length) {
    let j = i;
    let posG = 0;
    let negG = 0;
    while (j < idx.length && p[idx[j]!] === p[idx[i]!]) {
      if (y[idx[j]!] === 1) posG++;
      else negG++;
      j++;
    }
    const negBelow = nNeg - negSeen - negG;
    negBelowSum += posG * (negBelow + negG / 2);
    negSeen += negG;
    i = j;
  }
  return negBelowSum / (nPos * nNeg);
}

export interface CurvePoint {
  threshold: number;
  tp: number;
  fp: number;
}

/** Cumulative counts at each distinct threshold, highest first. */
function cumulative(y: ArrayLike<number>, p: ArrayLike<number>): { points: CurvePoint[]; nPos: number; nNeg: number } {
  check(y, p);
  const idx = byScoreDesc(p);
  const points: CurvePoint[] = [];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < idx.length) {
    const t = p[idx[i]!]!;
    while (i < idx.length && p[idx[i]!] === t) {
      if (y[idx[i]!] === 1) tp++;
      else fp++;
      i++;
    }
    points.push({ threshold: t, tp, fp });
  }
  return { points, nPos: tp, nNeg: fp };
}

export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** ROC curve from (0, 0) at threshold +Infinity through every distinct score. */
export function rocCurve(y: ArrayLike<number>, p: ArrayLike<number>): RocPoint[] {
  const { points, nPos, nNeg } = cumulative(y, p);
  return [
    { threshold: Infinity, fpr: 0, tpr: 0 },
    ...points.map((c) => ({ threshold: c.threshold, fpr: nNeg > 0 ? c.fp / nNeg : 0, tpr: nPos > 0 ? c.tp / nPos : 0 })),
  ];
}

export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** Precision–recall points at every distinct score, highest threshold first. */
export function prCurve(y: ArrayLike<number>, p: ArrayLike<number>): PrPoint[] {
  const { points, nPos } = cumulative(y, p);
  return points.map((c) => ({ threshold: c.threshold, precision: c.tp / (c.tp + c.fp), recall: nPos > 0 ? c.tp / nPos : 0 }));
}

/** Average precision (scikit-learn's average_precision_score): Σ (R_k − R_{k−1}) · P_k. */
export function auprc(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const { points, nPos } = cumulative(y, p);
  if (nPos === 0) return NaN;
  let ap = 0;
  let prevRecall = 0;
  for (const c of points) {
    const recall = c.tp / nPos;
    ap += (recall - prevRecall) * (c.tp / (c.tp + c.fp));
    prevRecall = recall;
  }
  return ap;
}
export const averagePrecision = auprc;

/** Mean squared error of the probabilities. */
export function brierScore(y: ArrayLike<number>, p: ArrayLike<number>): number {
  check(y, p);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i]! - y[i]!) ** 2;
  return s / y.length;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number;
  fractionPositive: number;
}

/** Equal-width bins over [0, 1] (the last bin includes 1); empty bins are omitted. */
export function calibrationCurve(y: ArrayLike<number>, p: ArrayLike<number>, nBins = 10): CalibrationBin[] {
  check(y, p);
  const count = new Array<number>(nBins).fill(0);
  const sumP = new Array<number>(nBins).fill(0);
  const sumY = new Array<number>(nBins).fill(0);
  for (let i = 0; i < y.length; i++) {
    const b = Math.min(nBins - 1, Math.max(0, Math.floor(p[i]! * nBins)));
    count[b]!++;
    sumP[b] = sumP[b]! + p[i]!;
    sumY[b] = sumY[b]! + y[i]!;
  }
  const bins: CalibrationBin[] = [];
  for (let b = 0; b < nBins; b++) {
    if (count[b] === 0) continue;
    bins.push({ lower: b / nBins, upper: (b + 1) / nBins, count: count[b]!, meanPredicted: sumP[b]! / count[b]!, fractionPositive: sumY[b]! / count[b]! });
  }
  return bins;
}

/** Expected calibration error over equal-width bins: Σ (n_b / N) · |mean(y_b) − mean(p_b)|. */
export function expectedCalibrationError(y: ArrayLike<number>, p: ArrayLike<number>, nBins = 10): number {
  let e = 0;
  for (const b of calibrationCurve(y, p, nBins)) e += (b.count / y.length) * Math.abs(b.fractionPositive - b.meanPredicted);
  return e;
}
export const ece = expectedCalibrationError;

export interface ConfusionMatrix {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** tp / (tp + fn) (recall, TPR). */
  sensitivity: number;
  /** tn / (tn + fp). */
  specificity: number;
  /** tp / (tp + fp) (precision); NaN when nothing is flagged. */
  ppv: number;
  /** tn / (tn + fn). */
  npv: number;
  /** Fraction of rows flagged (score >= threshold). */
  alertRate: number;
}

export function confusionMatrix(y: ArrayLike<number>, p: ArrayLike<number>, threshold: number): ConfusionMatrix {
  check(y, p);
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < y.length; i++) {
    const flagged = p[i]! >= threshold;
    if (y[i] === 1) {
      if (flagged) tp++;
      else fn++;
    } else if (flagged) fp++;
    else tn++;
  }
  return {
    threshold,
    tp, fp, tn, fn,
    sensitivity: tp / (tp + fn),
    specificity: tn / (tn + fp),
    ppv: tp / (tp + fp),
    npv: tn / (tn + fn),
    alertRate: (tp + fp) / y.length,
  };
}

export function confusionMatrices(y: ArrayLike<number>, p: ArrayLike<number>, thresholds: readonly number[]): ConfusionMatrix[] {
  return thresholds.map((t) => confusionMatrix(y, p, t));
}

export interface MetricSummary {
  rows: number;
  positives: number;
  auroc: number;
  auprc: number;
  brier: number;
  ece: number;
}

export function summarize(y: ArrayLike<number>, p: ArrayLike<number>): MetricSummary {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i] === 1 ? 1 : 0;
  return { rows: y.length, positives, auroc: auroc(y, p), auprc: auprc(y, p), brier: brierScore(y, p), ece: expectedCalibrationError(y, p) };
}

/** The median, or null when there is nothing to take it of (no alerted stay, so no lead time). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Four decimals: how the evaluations and the policy replay report their rates and scores. */
export const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
