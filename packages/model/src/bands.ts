// Severity bands (low / medium / high) from the model probability, with thresholds chosen
// on validation data. A row is in the high band when p >= high, medium when
// medium <= p < high, else low. Thresholds are on the scale the model reports (calibrated
// when the model has a calibration).
//
// Rules (targets are fractions):
// - 'sensitivity' (default: medium 0.80, high 0.40): each threshold is the HIGHEST
//   validation score t such that sensitivity (share of positives with p >= t) is at least
//   the target — "medium or above catches ≥ 80 % of patients who deteriorate".
// - 'alertRate': each threshold is the LOWEST validation score t such that the share of
//   validation rows with p >= t is at most the target — "at most 5 % of patients are high";
//   when the rows tied at the top score alone exceed it, the top score (those rows, over the
//   target: the validation matrices say by how much).
import { confusionMatrix, type ConfusionMatrix } from './metrics.js';

export type Band = 'low' | 'medium' | 'high';

export interface BandRule {
  rule: 'sensitivity' | 'alertRate';
  medium: number;
  high: number;
}

export const DEFAULT_BAND_RULE: BandRule = { rule: 'sensitivity', medium: 0.8, high: 0.4 };

export interface BandThresholds {
  rule: BandRule['rule'];
  targets: { medium: number; high: number };
  medium: number;
  high: number;
  /** Confusion matrices on the validation data at the two thresholds. */
  validation: { medium: ConfusionMatrix; high: ConfusionMatrix };
}

/** Distinct scores (descending) with cumulative positives and rows flagged at p >= score. */
function cumulative(y: ArrayLike<number>, p: ArrayLike<number>): { t: number[]; tp: number[]; flagged: number[]; nPos: number } {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  const t: number[] = [];
  const tp: number[] = [];
  const flagged: number[] = [];
  let cp = 0;
  let k = 0;
  while (k < idx.length) {
    const s = p[idx[k]!]!;
    while (k < idx.length && p[idx[k]!] === s) {
      cp += y[idx[k]!] === 1 ? 1 : 0;
      k++;
    }
    t.push(s);
    tp.push(cp);
    flagged.push(k);
  }
  return { t, tp, flagged, nPos: cp };
}

function thresholdFor(c: ReturnType<typeof cumulative>, n: number, rule: BandRule['rule'], target: number): number {
  if (rule === 'sensitivity') {
    for (let i = 0; i < c.t.length; i++) if (c.tp[i]! / c.nPos >= target) return c.t[i]!;
    return c.t[c.t.length - 1]!;
  }
  let best = Infinity;
  for (let i = 0; i < c.t.length; i++) {
    if (c.flagged[i]! / n <= target) best = c.t[i]!;
    else break;
  }
  // Nothing fits the budget: the rows tied at the top score are more than it allows (an
  // isotonic calibration maps its top block to one value). The band is those rows, over the
  // budget by what the validation matrices show, whatever the top score is: "just above the
  // top score" made the band empty below a top of 1 (no alert ever) and over the budget at 1.
  return best === Infinity ? c.t[0]! : best;
}

export function chooseBands(y: ArrayLike<number>, p: ArrayLike<number>, rule: BandRule = DEFAULT_BAND_RULE): BandThresholds {
  for (const [k, v] of [['medium', rule.medium], ['high', rule.high]] as const) {
    if (!(v > 0 && v <= 1)) throw new RangeError(`band target ${k} must be in (0, 1], got ${v}`);
  }
  if (rule.rule === 'sensitivity' && rule.high > rule.medium) throw new RangeError('sensitivity rule: the high target must not exceed the medium target');
  if (rule.rule === 'alertRate' && rule.high > rule.medium) throw new RangeError('alertRate rule: the high alert rate must not exceed the medium one');
  const c = cumulative(y, p);
  if (c.nPos === 0) throw new RangeError('band thresholds need at least one positive validation row');
  const medium = thresholdFor(c, p.length, rule.rule, rule.medium);
  const high = Math.max(medium, thresholdFor(c, p.length, rule.rule, rule.high));
  return {
    rule: rule.rule,
    targets: { medium: rule.medium, high: rule.high },
    medium,
    high,
    validation: { medium: confusionMatrix(y, p, medium), high: confusionMatrix(y, p, high) },
  };
}

export function bandOf(p: number, bands: Pick<BandThresholds, 'medium' | 'high'>): Band {
  return p >= bands.high ? 'high' : p >= bands.medium ? 'medium' : 'low';
}
