// Probability calibration fitted on held-out data. The raw forest probability always
// stays available; calibration maps it to the reported probability.
//   platt:    p = 1 / (1 + exp(-(a·s + b)))  (Platt 1999, Lin–Lin–Weng 2007 Newton fit with
//             Platt's smoothed targets), s = raw forest probability.
//   isotonic: non-decreasing step function fitted by pool-adjacent-violators (ties in s
//             pooled first), evaluated by linear interpolation between the block ends and
//             clipped outside the fitted range (as scikit-learn's CalibratedClassifierCV).

export type Calibration =
  | { method: 'none' }
  | { method: 'platt'; a: number; b: number }
  | { method: 'isotonic'; x: number[]; y: number[] };

export type CalibrationMethod = Calibration['method'];

export function fitPlatt(scores: ArrayLike<number>, labels: ArrayLike<number>): { a: number; b: number } {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += labels[i] === 1 ? 1 : 0;
  const nNeg = n - nPos;
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = labels[i] === 1 ? hi : lo;

  const loss = (a: number, b: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = a * scores[i]! + b;
      // log(1 + e^z) − t·z, computed stably.
      f += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t[i]! * z;
    }
    return f;
  };
  let a = 0;
  let b = Math.log((nPos + 1) / (nNeg + 1));
  let f = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      const z = a * s + b;
      const p = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      const d = p - t[i]!;
      const w = p * (1 - p);
      ga += d * s;
      gb += d;
      haa += w * s * s;
      hab += w * s;
      hbb += w;
    }
    if (Math.abs(ga) < 1e-9 && Math.abs(gb) < 1e-9) break;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(-hab * ga + haa * gb) / det;
    const slope = ga * da + gb * db;
    let step = 1;
    let improved = false;
    while (step >= 1e-10) {
      const na = a + step * da;
      const nb = b + step * db;
      const nf = loss(na, nb);
      if (nf < f + 1e-4 * step * slope) {
        a = na;
        b = nb;
        f = nf;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { a, b };
}

export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>): { x: number[]; y: number[] } {
  const n = scores.length;
  if (n === 0) throw new RangeError('isotonic calibration needs data');
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[i]! - scores[j]! || i - j);
  // Blocks: [xMin, xMax, sumY, weight]
  const xMin: number[] = [];
  const xMax: number[] = [];
  const sumY: number[] = [];
  const w: number[] = [];
  let i = 0;
  while (i < n) {
    const x = scores[order[i]!]!;
    let sy = 0;
    let cnt = 0;
    while (i < n && scores[order[i]!] === x) {
      sy += labels[order[i]!] === 1 ? 1 : 0;
      cnt++;
      i++;
    }
    xMin.push(x);
    xMax.push(x);
    sumY.push(sy);
    w.push(cnt);
    // Pool while the previous block's mean exceeds the last one's.
    while (w.length > 1) {
      const k = w.length - 1;
      if (sumY[k - 1]! / w[k - 1]! <= sumY[k]! / w[k]!) break;
      xMax[k - 1] = xMax[k]!;
      sumY[k - 1] = sumY[k - 1]! + sumY[k]!;
      w[k - 1] = w[k - 1]! + w[k]!;
      xMin.pop();
      xMax.pop();
      sumY.pop();
      w.pop();
    }
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < w.length; k++) {
    const v = sumY[k]! / w[k]!;
    xs.push(xMin[k]!);
    ys.push(v);
    if (xMax[k]! > xMin[k]!) {
      xs.push(xMax[k]!);
      ys.push(v);
    }
  }
  return { x: xs, y: ys };
}

/**
 * Tilts each flat block of an isotonic fit from a quarter of the way down to the block below
 * to a quarter of the way up to the block above, so the map is strictly increasing: the reported probability keeps the forest's
 * ranking (no new ties: AUROC unchanged, thresholds at an alert rate land where asked)
 * while moving no block by more than a quarter of a step.
 */
export function strictIsotonic(fit: { x: number[]; y: number[] }): { x: number[]; y: number[] } {
  const { x, y } = fit;
  const out = y.slice();
  let i = 0;
  while (i < x.length) {
    let j = i;
    while (j + 1 < x.length && y[j + 1] === y[i]) j++;
    if (j > i && x[j]! > x[i]!) {
      const v = y[i]!;
      const below = i > 0 ? v - y[i - 1]! : v;
      const above = j + 1 < y.length ? y[j + 1]! - v : 1 - v;
      // From a quarter of the way down to the block below to a quarter of the way up to the one above.
      const lo = v - 0.25 * Math.max(0, below);
      const hi = v + 0.25 * Math.max(0, above);
      for (let k = i; k <= j; k++) out[k] = lo + ((hi - lo) * (x[k]! - x[i]!)) / (x[j]! - x[i]!);
    }
    i = j + 1;
  }
  return { x: x.slice(), y: out };
}

export function fitCalibration(method: CalibrationMethod, scores: ArrayLike<number>, labels: ArrayLike<number>, options: { strict?: boolean } = {}): Calibration {
  switch (method) {
    case 'none': return { method: 'none' };
    case 'platt': {
      // On validation scores that run against the labels the fit is a falling curve, which
      // would report the highest forest probability as the lowest risk: refused, not served.
      const fit = fitPlatt(scores, labels);
      if (!(fit.a > 0)) throw new RangeError(`Platt calibration fitted a slope of ${fit.a.toPrecision(3)}: the validation scores do not rise with the outcome, so the model ranks them no better than chance or the wrong way round (use more data, or --calibration isotonic)`);
      return { method: 'platt', ...fit };
    }
    case 'isotonic': {
      const fit = fitIsotonic(scores, labels);
      return { method: 'isotonic', ...(options.strict ? strictIsotonic(fit) : fit) };
    }
    default: throw new RangeError(`unknown calibration method ${String(method)}`);
  }
}

/** Maps a raw forest probability to the calibrated probability. */
export function applyCalibration(cal: Calibration, p: number): number {
  switch (cal.method) {
    case 'none':
      return p;
    case 'platt': {
      const z = cal.a * p + cal.b;
      return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }
    case 'isotonic': {
      const { x, y } = cal;
      const last = x.length - 1;
      if (p <= x[0]!) return y[0]!;
      if (p >= x[last]!) return y[last]!;
      let lo = 0;
      let hi = last;
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (x[mid]! <= p) lo = mid;
        else hi = mid;
      }
      const x0 = x[lo]!, x1 = x[hi]!;
      return x1 > x0 ? y[lo]! + ((y[hi]! - y[lo]!) * (p - x0)) / (x1 - x0) : y[hi]!;
    }
  }
}
