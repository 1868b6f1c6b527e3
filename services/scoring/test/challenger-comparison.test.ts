import { loadPolicySync } from '@ehr/alerts';
import type { SeverityBand, SeverityScoreEvent } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { createChallengerComparison } from '../src/challenger-comparison.js';

const policy = loadPolicySync('default'); // enter 0.0195, clear below 0.0146; a new alert in an episode only on a rise of 0.0195 within 48 h; NEWS2 ≥ 7 alerts whatever the model (every score here has NEWS2 1)

let n = 0;
function score(patientId: string, hour: number, probability: number | null, band: SeverityBand, version: string): SeverityScoreEvent {
  n++;
  const at = new Date(Date.UTC(2026, 2, 1, hour)).toISOString();
  return {
    schema: 'severity_score',
    schemaVersion: 1,
    eventId: `s-${n}`,
    patientId,
    encounterId: null,
    occurredAt: at,
    producedAt: at,
    source: 'scoring-service',
    payload: {
      scoreId: `s-${n}`,
      featureEventId: `fv-${n}`,
      eventTime: at,
      scoredAt: at,
      mode: probability === null ? 'news2_only' : 'model',
      probability,
      band,
      news2: 1,
      news2Band: 'low',
      model: probability === null ? null : { name: 'm', version },
      features: {},
      topFeatures: [],
      latencyMs: 1,
    },
  };
}

describe('challenger comparison', () => {
  it('gives agreement, mean |Δp|, correlation, bands and the alerts each model would raise under the shipped policy', () => {
    const c = createChallengerComparison(100, policy);
    // p1: served crosses enter at hour 1, the challenger at hour 0 (then no rise of 0.0195: no second alert).
    c.observe(score('p1', 0, 0.01, 'low', 'A'), score('p1', 0, 0.03, 'medium', 'B'));
    c.observe(score('p1', 1, 0.05, 'medium', 'A'), score('p1', 1, 0.04, 'medium', 'B'));
    // p2: only the challenger ever alerts.
    c.observe(score('p2', 0, 0.0, 'low', 'A'), score('p2', 0, 0.3, 'high', 'B'));
    c.observe(score('p2', 1, 0.01, 'low', 'A'), score('p2', 1, 0.01, 'low', 'B'));
    const s = c.summary();
    expect(s).toMatchObject({ scored: 4, window: 100, withProbabilities: 4, alerts: { policy: 'default@3', served: 1, challenger: 2 } });
    expect(s.bandAgreement).toBeCloseTo(2 / 4, 12);
    expect(s.meanAbsDeltaProbability).toBeCloseTo((0.02 + 0.01 + 0.3 + 0) / 4, 12);
    // x = [0.01, 0.05, 0, 0.01], y = [0.03, 0.04, 0.3, 0.01], worked by hand.
    const x = [0.01, 0.05, 0, 0.01];
    const y = [0.03, 0.04, 0.3, 0.01];
    const mx = 0.0175;
    const my = 0.095;
    const sxy = x.reduce((a, xi, i) => a + (xi - mx) * (y[i]! - my), 0);
    const r = sxy / Math.sqrt(x.reduce((a, xi) => a + (xi - mx) ** 2, 0) * y.reduce((a, yi) => a + (yi - my) ** 2, 0));
    expect(s.correlation).toBeCloseTo(r, 12);
    expect(s.correlation).toBeLessThan(0);
    expect(s.meanProbability.served).toBeCloseTo(mx, 12);
    expect(s.meanProbability.challenger).toBeCloseTo(my, 12);
    expect(s.bands.low).toEqual({ low: 1, medium: 1, high: 1 });
    expect(s.bands.medium).toEqual({ low: 0, medium: 1, high: 0 });
  });

  it('keeps only the latest `window` vectors, leaves NEWS2-only served scores out of the probability figures, and starts again on a model swap', () => {
    const c = createChallengerComparison(3, policy);
    c.observe(score('p1', 0, 0.9, 'high', 'A'), score('p1', 0, 0.1, 'low', 'B'));
    for (let h = 1; h <= 3; h++) c.observe(score('p1', h, 0.5, 'medium', 'A'), score('p1', h, 0.5, 'medium', 'B'));
    expect(c.summary()).toMatchObject({ scored: 3, bandAgreement: 1, meanAbsDeltaProbability: 0, correlation: null });

    c.observe(score('p1', 4, null, 'medium', 'A'), score('p1', 4, 0.2, 'low', 'B'));
    expect(c.summary()).toMatchObject({ scored: 1, withProbabilities: 0, bandAgreement: 0, meanAbsDeltaProbability: null });

    const empty = createChallengerComparison(3, policy).summary();
    expect(empty).toMatchObject({ scored: 0, bandAgreement: null, correlation: null, since: null, alerts: { served: 0, challenger: 0 } });
  });
});
