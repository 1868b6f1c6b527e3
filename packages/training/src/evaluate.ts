// Model against NEWS2 on the same test rows: ranking (AUROC, AUPRC), calibration (Brier,
// ECE, reliability curve), confusion matrices at the operating thresholds, and
// patient-level bootstrap confidence intervals (rows of one patient are not independent,
// so whole patients are resampled).
//
// NEWS2 is a points score, not a probability: its Brier score and ECE are those of the
// event rate per NEWS2 value (isotonic on the score), fitted on the validation rows when
// there are any, else on the test rows themselves (which favours NEWS2).
import {
  applyCalibration,
  auprc,
  auroc,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  expectedCalibrationError,
  fitCalibration,
  prCurve,
  rocCurve,
  round4 as r4,
  type CalibrationBin,
  type ConfusionMatrix,
} from '@ehr/model';
import { createRandom } from '@ehr/features';

export interface Interval {
  low: number;
  high: number;
}

export interface ScorerEvaluation {
  name: string;
  auroc: number;
  auprc: number;
  brier: number;
  ece: number;
  ci: { auroc: Interval; auprc: Interval; brier: Interval } | null;
  roc: { fpr: number; tpr: number }[];
  pr: { recall: number; precision: number }[];
  /** 10 equal-width bins (the ECE's). */
  calibration: CalibrationBin[];
  /** 10 equal-count bins by predicted probability (readable when the outcome is rare). */
  reliability: { meanPredicted: number; fractionPositive: number; count: number }[];
  confusion: { label: string; matrix: ConfusionMatrix }[];
}

export interface Evaluation {
  rows: number;
  positives: number;
  patients: number;
  patientsWithPositives: number;
  model: ScorerEvaluation;
  /** The forest's own probability before calibration (ranking only differs by ties). */
  modelRaw: { auroc: number; auprc: number; brier: number; ece: number };
  news2: ScorerEvaluation;
  /** Model minus NEWS2, paired over the same bootstrap resamples. */
  difference: { auroc: number; auprc: number; ci: { auroc: Interval; auprc: Interval } | null; aurocBetter: number | null };
  bootstrap: { resamples: number; skipped: number; unit: 'patient'; seed: number };
  news2Calibration: 'validation' | 'test (in-sample)';
}

export interface EvaluationInput {
  y: ArrayLike<number>;
  /** Reported (calibrated) model probability per row. */
  probability: ArrayLike<number>;
  rawProbability: ArrayLike<number>;
  /** NEWS2 total per row. */
  news2: ArrayLike<number>;
  /** Patient index per row. */
  patientOf: ArrayLike<number>;
  /** Model band thresholds (probability), when the model has bands. */
  bands: { medium: number; high: number } | null;
  /** Validation rows for NEWS2's probability mapping. */
  news2Validation?: { y: ArrayLike<number>; news2: ArrayLike<number> } | null;
  bootstrap?: number;
  seed?: number;
}

const MAX_CURVE_POINTS = 400;

function thin<T>(points: T[]): T[] {
  if (points.length <= MAX_CURVE_POINTS) return points;
  const out: T[] = [];
  const step = (points.length - 1) / (MAX_CURVE_POINTS - 1);
  for (let k = 0; k < MAX_CURVE_POINTS; k++) out.push(points[Math.round(k * step)]!);
  return out;
}

/** Row order by descending score with tie groups, computed once for the bootstrap. */
export interface Sorted {
  order: Uint32Array;
  /** groupEnd[k] = true when order[k] is the last row of its tie group. */
  groupEnd: Uint8Array;
}

export function sortDesc(p: ArrayLike<number>): Sorted {
  const order = new Uint32Array(p.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => p[b]! - p[a]! || a - b);
  const groupEnd = new Uint8Array(p.length);
  for (let k = 0; k < order.length; k++) groupEnd[k] = k + 1 === order.length || p[order[k + 1]!] !== p[order[k]!] ? 1 : 0;
  return { order, groupEnd };
}

/** Weighted AUROC (ties count 1/2) and average precision in one pass over pre-sorted rows. */
export function weightedRanking(s: Sorted, y: ArrayLike<number>, w: ArrayLike<number>): { auroc: number; auprc: number } {
  let totalPos = 0;
  let totalNeg = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) totalPos += w[i]!;
    else totalNeg += w[i]!;
  }
  if (totalPos === 0 || totalNeg === 0) return { auroc: NaN, auprc: NaN };
  let negAbove = 0;
  let gPos = 0;
  let gNeg = 0;
  let auc = 0;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let k = 0; k < s.order.length; k++) {
    const i = s.order[k]!;
    const wi = w[i]!;
    if (wi !== 0) {
      if (y[i] === 1) gPos += wi;
      else gNeg += wi;
    }
    if (s.groupEnd[k]) {
      if (gPos + gNeg > 0) {
        auc += gPos * (totalNeg - negAbove - gNeg / 2);
        negAbove += gNeg;
        tp += gPos;
        fp += gNeg;
        const recall = tp / totalPos;
        ap += (recall - prevRecall) * (tp / (tp + fp));
        prevRecall = recall;
      }
      gPos = 0;
      gNeg = 0;
    }
  }
  return { auroc: auc / (totalPos * totalNeg), auprc: ap };
}

function weightedBrier(y: ArrayLike<number>, p: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    const d = p[i]! - y[i]!;
    s += w[i]! * d * d;
    n += w[i]!;
  }
  return s / n;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function interval(values: number[]): Interval {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { low: r4(percentile(s, 0.025)), high: r4(percentile(s, 0.975)) };
}

/** Rows sorted by predicted probability, cut into `bins` groups of about equal size (ties kept together). */
export function equalCountBins(y: ArrayLike<number>, p: ArrayLike<number>, bins: number): { meanPredicted: number; fractionPositive: number; count: number }[] {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  const out: { meanPredicted: number; fractionPositive: number; count: number }[] = [];
  let start = 0;
  for (let b = 1; b <= bins && start < order.length; b++) {
    let end = Math.max(start + 1, Math.round((order.length * b) / bins));
    while (end < order.length && p[order[end]!] === p[order[end - 1]!]) end++;
    let sp = 0;
    let sy = 0;
    for (let k = start; k < end; k++) {
      sp += p[order[k]!]!;
      sy += y[order[k]!]!;
    }
    out.push({ meanPredicted: sp / (end - start), fractionPositive: sy / (end - start), count: end - start });
    start = end;
  }
  return out;
}

function scorer(name: string, y: ArrayLike<number>, rank: ArrayLike<number>, prob: ArrayLike<number>, confusion: { label: string; score: ArrayLike<number>; threshold: number }[]): ScorerEvaluation {
  return {
    name,
    auroc: r4(auroc(y, rank)),
    auprc: r4(auprc(y, rank)),
    brier: r4(brierScore(y, prob)),
    ece: r4(expectedCalibrationError(y, prob)),
    ci: null,
    roc: thin(rocCurve(y, rank).map((p) => ({ fpr: p.fpr, tpr: p.tpr }))),
    pr: thin(prCurve(y, rank).map((p) => ({ recall: p.recall, precision: p.precision }))),
    calibration: calibrationCurve(y, prob),
    reliability: equalCountBins(y, prob, 10),
    confusion: confusion.map((c) => ({ label: c.label, matrix: confusionMatrix(y, c.score, c.threshold) })),
  };
}

export function evaluate(input: EvaluationInput): Evaluation {
  const { y, probability, rawProbability, news2, patientOf } = input;
  const n = y.length;
  if (probability.length !== n || news2.length !== n || patientOf.length !== n || rawProbability.length !== n) throw new RangeError('evaluation inputs differ in length');
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i] === 1 ? 1 : 0;

  const nv = input.news2Validation;
  const news2Fit = nv && nv.y.length > 0 && Array.from(nv.y).some((v) => v === 1) ? nv : { y, news2 };
  const news2Cal = fitCalibration('isotonic', Array.from(news2Fit.news2, (s) => s / 20), news2Fit.y);
  const news2Prob = Float64Array.from(news2, (s) => applyCalibration(news2Cal, s / 20));

  const model = scorer('Random Forest', y, probability, probability, input.bands ? [
    { label: `p ≥ ${input.bands.medium.toPrecision(3)} (medium band)`, score: probability, threshold: input.bands.medium },
    { label: `p ≥ ${input.bands.high.toPrecision(3)} (high band)`, score: probability, threshold: input.bands.high },
  ] : []);
  const news2Eval = scorer('NEWS2', y, news2, news2Prob, [
    { label: 'NEWS2 ≥ 5 (medium: urgent response)', score: news2, threshold: 5 },
    { label: 'NEWS2 ≥ 7 (high: emergency response)', score: news2, threshold: 7 },
  ]);

  // Patient-level bootstrap, paired: the same resample scores both.
  const patientIds = [...new Set(Array.from(patientOf))].sort((a, b) => a - b);
  const rowsOf = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = rowsOf.get(patientOf[i]!) ?? [];
    list.push(i);
    rowsOf.set(patientOf[i]!, list);
  }
  const resamples = input.bootstrap ?? 200;
  const seed = input.seed ?? 0;
  let skipped = 0;
  const acc = { mAuroc: [] as number[], mAuprc: [] as number[], mBrier: [] as number[], nAuroc: [] as number[], nAuprc: [] as number[], nBrier: [] as number[], dAuroc: [] as number[], dAuprc: [] as number[] };
  let better = 0;
  if (resamples > 0) {
    const sm = sortDesc(probability);
    const sn = sortDesc(news2);
    const rng = createRandom(seed >>> 0).fork('bootstrap');
    const w = new Float64Array(n);
    for (let b = 0; b < resamples; b++) {
      w.fill(0);
      for (let k = 0; k < patientIds.length; k++) {
        const p = patientIds[Math.floor(rng.next() * patientIds.length)]!;
        for (const i of rowsOf.get(p)!) w[i] = w[i]! + 1;
      }
      const m = weightedRanking(sm, y, w);
      const s = weightedRanking(sn, y, w);
      if (!Number.isFinite(m.auroc) || !Number.isFinite(s.auroc)) {
        skipped++;
        continue;
      }
      acc.mAuroc.push(m.auroc);
      acc.mAuprc.push(m.auprc);
      acc.nAuroc.push(s.auroc);
      acc.nAuprc.push(s.auprc);
      acc.dAuroc.push(m.auroc - s.auroc);
      acc.dAuprc.push(m.auprc - s.auprc);
      acc.mBrier.push(weightedBrier(y, probability, w));
      acc.nBrier.push(weightedBrier(y, news2Prob, w));
      if (m.auroc > s.auroc) better++;
    }
    if (acc.mAuroc.length > 0) {
      model.ci = { auroc: interval(acc.mAuroc), auprc: interval(acc.mAuprc), brier: interval(acc.mBrier) };
      news2Eval.ci = { auroc: interval(acc.nAuroc), auprc: interval(acc.nAuprc), brier: interval(acc.nBrier) };
    }
  }
  const used = acc.dAuroc.length;
  return {
    rows: n,
    positives,
    patients: patientIds.length,
    patientsWithPositives: patientIds.filter((p) => rowsOf.get(p)!.some((i) => y[i] === 1)).length,
    model,
    modelRaw: { auroc: r4(auroc(y, rawProbability)), auprc: r4(auprc(y, rawProbability)), brier: r4(brierScore(y, rawProbability)), ece: r4(expectedCalibrationError(y, rawProbability)) },
    news2: news2Eval,
    difference: {
      auroc: r4(model.auroc - news2Eval.auroc),
      auprc: r4(model.auprc - news2Eval.auprc),
      ci: used > 0 ? { auroc: interval(acc.dAuroc), auprc: interval(acc.dAuprc) } : null,
      aurocBetter: used > 0 ? r4(better / used) : null,
    },
    bootstrap: { resamples: used, skipped, unit: 'patient', seed },
    news2Calibration: news2Fit === nv ? 'validation' : 'test (in-sample)',
  };
}
