// Training distribution of each feature, for population stability index (PSI) monitoring.
// Bins: quantile cut points over the training values (≈ deciles; a heavy tie stays in one
// bin); value v is in bin #{edges e : e <= v}, the same rule as the model's splits; the
// missing bucket is separate. proportions (per bin, over ALL rows) + missingRate sum to 1.
import { binOf, quantileCuts } from './binning.js';
import { isMissing } from './missing.js';

export interface FeatureDistribution {
  feature: string;
  /** Cut points between bins (k - 1 for k bins). */
  edges: number[];
  /** Fraction of training rows in each bin (k values). */
  proportions: number[];
  /** Fraction of training rows with the value missing. */
  missingRate: number;
}

export const DRIFT_BINS = 10;
/** Floor applied to a proportion before taking logs, so an empty bucket stays finite. */
export const PSI_EPSILON = 1e-4;

export function featureDistribution(feature: string, sortedReal: ArrayLike<number>, missing: number, bins = DRIFT_BINS): FeatureDistribution {
  const total = sortedReal.length + missing;
  const edges = quantileCuts(sortedReal, bins);
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < sortedReal.length; i++) counts[binOf(edges, sortedReal[i]!)]!++;
  return {
    feature,
    edges,
    proportions: counts.map((c) => (total > 0 ? c / total : 0)),
    missingRate: total > 0 ? missing / total : 0,
  };
}

/** Live counts for one feature: per bin of `dist.edges`, plus the missing bucket. */
export interface LiveCounts {
  counts: number[];
  missing: number;
}

/** Buckets live values the way the training distribution was bucketed. */
export function liveCounts(dist: FeatureDistribution, values: Iterable<number | null | undefined>): LiveCounts {
  const counts = new Array<number>(dist.edges.length + 1).fill(0);
  let missing = 0;
  for (const v of values) {
    if (isMissing(v)) missing++;
    else counts[binOf(dist.edges, v!)]!++;
  }
  return { counts, missing };
}

/**
 * PSI = Σ (live − expected) · ln(live / expected) over the bins and the missing bucket,
 * each proportion floored at PSI_EPSILON. Rule of thumb: < 0.1 stable, 0.1–0.25 moderate
 * shift, > 0.25 major shift.
 */
export function psi(dist: FeatureDistribution, live: LiveCounts): number {
  if (live.counts.length !== dist.proportions.length) {
    throw new RangeError(`feature ${dist.feature}: live counts have ${live.counts.length} bins, the training distribution has ${dist.proportions.length}`);
  }
  const total = live.counts.reduce((a, b) => a + b, 0) + live.missing;
  if (total === 0) return 0;
  let sum = 0;
  const term = (expected: number, count: number): void => {
    const e = Math.max(expected, PSI_EPSILON);
    const a = Math.max(count / total, PSI_EPSILON);
    sum += (a - e) * Math.log(a / e);
  };
  dist.proportions.forEach((p, i) => term(p, live.counts[i]!));
  term(dist.missingRate, live.missing);
  return sum;
}
