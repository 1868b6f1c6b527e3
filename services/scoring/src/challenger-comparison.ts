// The served model and the challenger side by side over the latest scored vectors: how
// often their bands agree, how far apart their probabilities are, and how many alerts each
// would raise under the shipped alert policy (the alerting service's own machine, one
// engine per model, so budgets and re-alert rules apply to each as they would live).
import { AlertEngine, scoreInputOf, type AlertPolicy } from '@ehr/alerts';
import type { SeverityBand, SeverityScoreEvent } from '@ehr/features';

interface Pair {
  served: number | null;
  challenger: number | null;
  servedBand: SeverityBand;
  challengerBand: SeverityBand;
  servedAlerts: number;
  challengerAlerts: number;
  scoredAt: string;
}

const BANDS: readonly SeverityBand[] = ['low', 'medium', 'high'];

export interface ComparisonSummary {
  /** Vectors the window holds (at most `window`). */
  scored: number;
  window: number;
  /** Scored vectors where both gave a probability (the served model may be NEWS2-only). */
  withProbabilities: number;
  since: string | null;
  /** Share of vectors with the same served band (both through the NEWS2 floor). */
  bandAgreement: number | null;
  /** served band → challenger band → count. */
  bands: Record<SeverityBand, Record<SeverityBand, number>>;
  meanAbsDeltaProbability: number | null;
  /** Pearson correlation of the two probabilities (null below two pairs or with no spread). */
  correlation: number | null;
  meanProbability: { served: number | null; challenger: number | null };
  /** Deterioration alerts each would have raised on these vectors under `policy`. */
  alerts: { policy: string; served: number; challenger: number };
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

function pearson(xs: readonly number[], ys: readonly number[]): number | null {
  const mx = mean(xs);
  const my = mean(ys);
  if (mx === null || my === null || xs.length < 2) return null;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

const raisedDeterioration = (engine: AlertEngine, score: SeverityScoreEvent) =>
  engine.applyScore(scoreInputOf(score)).transitions.filter((t) => t.type === 'raised' && t.kind === 'deterioration').length;

/** How often the engines are ticked (so that patients who left are evicted and memory stays bounded). */
const TICK_EVERY = 1_000;

export function createChallengerComparison(window: number, policy: AlertPolicy) {
  let ring: Pair[] = [];
  let next = 0;
  let engines = { served: new AlertEngine(policy), challenger: new AlertEngine(policy) };
  // A window that mixes model versions would compare nothing in particular: a swap starts it again.
  let versions: string | null = null;
  let observed = 0;
  let latestAt = 0;

  const reset = () => {
    ring = [];
    next = 0;
    engines = { served: new AlertEngine(policy), challenger: new AlertEngine(policy) };
  };

  return {
    /** One vector's served and shadow score. */
    observe(served: SeverityScoreEvent, challenger: SeverityScoreEvent): void {
      const key = `${served.payload.model?.version ?? 'news2'}|${challenger.payload.model?.version ?? 'none'}`;
      if (key !== versions) {
        reset();
        versions = key;
      }
      const pair: Pair = {
        served: served.payload.probability,
        challenger: challenger.payload.probability,
        servedBand: served.payload.band,
        challengerBand: challenger.payload.band,
        servedAlerts: raisedDeterioration(engines.served, served),
        challengerAlerts: raisedDeterioration(engines.challenger, challenger),
        scoredAt: served.payload.scoredAt,
      };
      if (ring.length < window) ring.push(pair);
      else ring[next] = pair;
      next = (next + 1) % window;
      latestAt = Math.max(latestAt, Date.parse(served.payload.eventTime) || 0);
      if (++observed % TICK_EVERY === 0) {
        engines.served.tick(latestAt, { overdue: false });
        engines.challenger.tick(latestAt, { overdue: false });
      }
    },

    summary(): ComparisonSummary {
      const bands = Object.fromEntries(BANDS.map((s) => [s, Object.fromEntries(BANDS.map((c) => [c, 0]))])) as ComparisonSummary['bands'];
      const xs: number[] = [];
      const ys: number[] = [];
      let same = 0;
      let servedAlerts = 0;
      let challengerAlerts = 0;
      let since: string | null = null;
      for (const p of ring) {
        bands[p.servedBand][p.challengerBand]++;
        if (p.servedBand === p.challengerBand) same++;
        servedAlerts += p.servedAlerts;
        challengerAlerts += p.challengerAlerts;
        if (since === null || p.scoredAt < since) since = p.scoredAt;
        if (p.served !== null && p.challenger !== null) {
          xs.push(p.served);
          ys.push(p.challenger);
        }
      }
      return {
        scored: ring.length,
        window,
        withProbabilities: xs.length,
        since,
        bandAgreement: ring.length === 0 ? null : same / ring.length,
        bands,
        meanAbsDeltaProbability: mean(xs.map((x, i) => Math.abs(x - ys[i]!))),
        correlation: pearson(xs, ys),
        meanProbability: { served: mean(xs), challenger: mean(ys) },
        alerts: { policy: `${policy.name}@${policy.version}`, served: servedAlerts, challenger: challengerAlerts },
      };
    },
  };
}

export type ChallengerComparison = ReturnType<typeof createChallengerComparison>;
