import { HOUR, T0, testPolicy } from '@ehr/alerts/testing';
import { describe, expect, it } from 'vitest';
import { renderReplayReport } from '../src/replay/replay-report.js';
import type { ReplayRow, ReplayStay } from '../src/replay/replay-data.js';
import { countPolicy, replayPolicy } from '../src/replay/replay.js';
import { candidatePolicy, policyCurve, thresholdAtRate, tunePolicy } from '../src/replay/tune.js';

/** A stay from hourly probabilities; onset at an hour index, or none. */
function stay(id: string, probabilities: number[], onsetHour: number | null, news2: number[] = []): ReplayStay {
  const rows: ReplayRow[] = probabilities.map((p, h) => ({ at: T0 + h * HOUR, probability: p, news2: news2[h] ?? 1, news2Band: (news2[h] ?? 1) >= 7 ? 'high' : (news2[h] ?? 1) >= 5 ? 'medium' : 'low', band: 'medium', observedAt: T0 + h * HOUR }));
  return { id, unit: 'u', rows, onset: onsetHour === null ? null : T0 + onsetHour * HOUR };
}

describe('counting a policy over stays', () => {
  // Septic: above 0.2 at hours 2–3 (before onset at hour 10) → in time, lead 8 h; again at 12 → late.
  const septic = stay('s1', [0.1, 0.1, 0.3, 0.3, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.5], 10);
  // Not septic: flickers 0.25 / 0.15 / 0.25 (one alert with hysteresis, two without).
  const quiet = stay('q1', [0.25, 0.15, 0.25, 0.05], null);
  const policy = testPolicy({ deterioration: { persistence: 1, reAlert: { rise: null, withinHours: 0 } } });

  it('gives alerts per patient-day, sensitivity per stay, PPV and lead time', () => {
    const c = countPolicy([septic, quiet], policy, { overdue: false });
    expect(c.alerts).toBe(3);
    expect(c.patientDays).toBeCloseTo(17 / 24, 4);
    expect(c.alertsPerPatientDay).toBeCloseTo(3 / (17 / 24), 3);
    expect(c).toMatchObject({ eventStays: 1, staysAlerted: 1, sensitivity: 1, inTime: 1, late: 1, medianLeadHours: 8 });
    expect(c.ppv).toBeCloseTo(1 / 3, 4);
  });

  it('counts what persistence and hysteresis removed, beside the plain threshold', () => {
    const r = replayPolicy([septic, quiet], { ...policy, deterioration: { ...policy.deterioration, persistence: 2 } }, { overdue: false });
    // Threshold alone: septic 2 (hours 2, 12), quiet 2 (hours 0, 2) = 4; persistence 2 keeps only septic's run at 2–3.
    expect(r.removed.thresholdOnlyAlerts).toBe(4);
    expect(r.removed.persistence).toBe(3);
    expect(r.alerts).toBe(1);
    expect(r.removed.budget).toBeNull();
    expect(r.budget).toBe('no budget');
    const h = replayPolicy([quiet], policy, { overdue: false });
    expect(h.removed).toMatchObject({ thresholdOnlyAlerts: 2, persistence: 0, hysteresis: 1, reAlert: 0 });
  });

  it('replays a unit budget across stays in time order when asked', () => {
    const a = stay('a', [0.5, 0.5], null);
    const b = stay('b', [0.05, 0.5], null);
    const budgeted = testPolicy({ deterioration: { persistence: 1 }, budget: { perUnitPerDay: 1, highBypasses: false } });
    expect(countPolicy([a, b], budgeted, { overdue: false }).alerts).toBe(1);
    expect(countPolicy([a, b], budgeted, { overdue: false, budget: false }).alerts).toBe(2);
    expect(replayPolicy([a, b], budgeted, { overdue: false }).removed.budget).toBe(1);
    expect(replayPolicy([a, b], budgeted, { overdue: false, budget: false }).budget).toBe('not replayed (no dates)');
  });

  it('counts the parts the same way as the whole: a patient who left and came back starts a new episode in both', () => {
    const back: ReplayStay = stay('back', [0.5, 0.5], null);
    back.rows = [back.rows[0]!, { ...back.rows[1]!, at: T0 + 30 * HOUR, observedAt: T0 + 30 * HOUR }];
    const p = testPolicy({ deterioration: { persistence: 1, reAlert: { rise: 0.1, withinHours: 72 } } });
    const r = replayPolicy([back], p);
    expect(r.alerts).toBe(2);
    expect(r.removed.thresholdOnlyAlerts - r.removed.persistence - r.removed.hysteresis - r.removed.reAlert).toBe(r.alerts);
  });

  it('counts overdue-observation alerts when the observations stop', () => {
    const gap: ReplayStay = { ...stay('g', [0.01, 0.01, 0.01, 0.01], null, [6, 6, 6, 6]) };
    gap.rows = gap.rows.map((r) => ({ ...r, observedAt: T0 }));
    expect(countPolicy([gap], testPolicy()).overdueAlerts).toBe(1);
  });
});

describe('tuning', () => {
  it('chooses within the NEWS2 ≥ 7 bound and writes a valid probability policy', () => {
    const stays = Array.from({ length: 30 }, (_, i) => stay(`t${i}`, Array.from({ length: 24 }, (_, h) => (i % 3 === 0 && h > 12 ? 0.4 : 0.02 + ((i * 7 + h) % 10) / 100)), i % 3 === 0 ? 20 : null, Array.from({ length: 24 }, (_, h) => ((i + h) % 9 === 0 ? 7 : 2))));
    const ge7 = testPolicy({ deterioration: { signal: 'news2', enter: 7, exit: 7, persistence: 1, reAlert: { rise: null, withinHours: 0 } } });
    const r = tunePolicy(stays, testPolicy(), ge7);
    expect(r.rows.length).toBeGreaterThan(100);
    expect(r.best.counts.alertsPerPatientDay).toBeLessThanOrEqual(r.bound.alertsPerPatientDay);
    expect(r.policy.deterioration).toMatchObject({ signal: 'probability', enter: r.best.enter, persistence: r.best.persistence });
    expect(r.policy.deterioration.exit).toBeLessThanOrEqual(r.policy.deterioration.enter);
    expect(thresholdAtRate(stays, 0.5)).toBeGreaterThan(thresholdAtRate(stays, 0.05) - 1);
    expect(candidatePolicy(testPolicy(), { enter: 0.3, exitRatio: 0.5, persistence: 2, riseRatio: 1, withinHours: 24 }).deterioration).toMatchObject({ enter: 0.3, exit: 0.15, reAlert: { rise: 0.3, withinHours: 24 } });
  });
});

describe('the report', () => {
  it('is one self-contained page: the table, the curve as inline SVG, nothing fetched', () => {
    const stays = [stay('s', [0.1, 0.3, 0.3, 0.05], 3), stay('q', [0.25, 0.05], null)];
    const policy = testPolicy({ deterioration: { persistence: 1 } });
    const results = [replayPolicy(stays, policy, { overdue: false })];
    const html = renderReplayReport({
      data: { description: '2 test stays', label: 'test outcome', model: { name: 'm', version: '1', contentHash: 'x' }, split: 'test', excluded: 0, realDates: false },
      results,
      curves: [{ name: 'test', color: '#000', points: policyCurve(stays, policy, [0.1, 0.2, 0.3]) }],
      tuning: null,
      command: 'npm run alerts:replay -- --model m --data d',
    });
    expect(html).toContain('<svg');
    expect(html).toContain('sensitivity per stay');
    expect(html).toContain('no budget');
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(html).not.toContain('<script');
  });
});
