import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogueOf, decodeSeverityScore, encodeSeverityScore, FEATURE_NAMES, type SeverityScoreEvent } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { observationIntervalHours } from '../src/observation-frequency.js';
import { loadPolicy, PolicyError, SHIPPED_POLICIES, validatePolicy } from '../src/policy.js';
import { applyScore } from '../src/machine.js';
import { observationSetAt, scoreInputOf, type ScoreInput } from '../src/score-input.js';
import { testPolicy } from './helpers.js';

describe('policies', () => {
  it('ships valid policies, loadable by name', async () => {
    for (const name of SHIPPED_POLICIES) {
      const p = await loadPolicy(name);
      expect(p.name).toBe(name);
    }
    expect((await loadPolicy('news2-ge5')).deterioration).toMatchObject({ signal: 'news2', enter: 5, exit: 5, persistence: 1 });
  });

  it('the shipped default never reads calmer than NEWS2: its emergency tier (7 and over) alerts whatever the model says, until NEWS2 falls below 5', async () => {
    const policy = await loadPolicy('default');
    const budget = { allows: () => true };
    const at = (h: number, news2: number, p = 0.012): ScoreInput => ({
      scoreId: `s-${h}`,
      patientId: 'p-1',
      encounterId: 'e-1',
      at: Date.parse('2026-01-05T00:00:00Z') + h * 3_600_000,
      probability: p,
      news2,
      news2Band: news2 >= 7 ? 'high' : news2 >= 5 ? 'medium' : 'low',
      band: news2 >= 7 ? 'high' : news2 >= 5 ? 'medium' : 'low',
      unit: 'MICU',
      observedAt: Date.parse('2026-01-05T00:00:00Z') + h * 3_600_000,
    });
    // The model far below its threshold (p 0.012 against 0.0195) while NEWS2 is 9.
    let state = applyScore(undefined, at(0, 9), policy, budget).state;
    const open = () => state.alerts.filter((a) => a.kind === 'deterioration').length;
    expect(open()).toBe(1);
    state = applyScore(state, at(1, 5), policy, budget).state;
    expect(open()).toBe(1);
    state = applyScore(state, at(2, 4), policy, budget).state;
    expect(open()).toBe(0);
  });

  it('refuses what the schema or the rules forbid, naming the field', async () => {
    const base = testPolicy();
    const bad = (patch: (p: ReturnType<typeof testPolicy>) => void) => {
      const p = structuredClone(base);
      patch(p);
      return () => validatePolicy(p);
    };
    expect(bad((p) => (p.deterioration.exit = 0.3))).toThrow(/exit \(0.3\) must not be above deterioration.enter/);
    expect(bad((p) => (p.deterioration.enter = 2))).toThrow(/probability: at most 1/);
    expect(bad((p) => (p.budget.timeZone = 'Mars/Olympus'))).toThrow(/unknown time zone/);
    expect(bad((p) => (p.deterioration.persistence = 0))).toThrow(PolicyError);
    expect(bad((p) => Object.assign(p, { extra: 1 }))).toThrow(/invalid alert policy/);
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    writeFileSync(join(dir, 'broken.json'), '{');
    await expect(loadPolicy(join(dir, 'broken.json'))).rejects.toThrow(/is not JSON/);
    await expect(loadPolicy(join(dir, 'missing.json'))).rejects.toThrow(/cannot read policy/);
  });
});

describe('observations', () => {
  it('takes the last complete set as the oldest latest measurement of RR, SpO2, SBP and pulse', () => {
    const at = Date.parse('2026-03-02T12:00:00Z');
    expect(observationSetAt({ respiratory_rate_hours_since: 0.5, spo2_hours_since: 2, systolic_bp_hours_since: 1, heart_rate_hours_since: 0, temperature_hours_since: 9 }, at)).toBe(at - 2 * 3_600_000);
    expect(observationSetAt({ heart_rate_hours_since: 0.25, spo2_hours_since: null }, at)).toBe(at - 900_000);
    expect(observationSetAt({ temperature_hours_since: 1 }, at)).toBeNull();
    // A value no measurement can have (it put the time past what a Date holds: the clock threw
    // on it) counts as never measured.
    expect(observationSetAt({ respiratory_rate_hours_since: 1e10, heart_rate_hours_since: 0.25 }, at)).toBe(at - 900_000);
    expect(observationSetAt({ respiratory_rate_hours_since: 1e10 }, at)).toBeNull();
  });

  it('follows the RCP monitoring frequency: 12 h at 0, 6 h at 1–4, hourly for a single 3 or 5–6, ≥ 7 continuous (hourly charted)', () => {
    const p = testPolicy();
    expect(observationIntervalHours(p, 0, 'low')).toBe(12);
    expect(observationIntervalHours(p, 4, 'low')).toBe(6);
    expect(observationIntervalHours(p, 3, 'low_medium')).toBe(1);
    expect(observationIntervalHours(p, 5, 'medium')).toBe(1);
    expect(observationIntervalHours(p, 9, 'high')).toBe(1);
    expect(observationIntervalHours(p, null, null)).toBeNull();
  });

  it('reads a score event into the machine input', () => {
    const input = scoreInputOf({
      schema: 'severity_score',
      schemaVersion: 1,
      eventId: 's-1',
      patientId: 'p-9',
      encounterId: null,
      occurredAt: '2026-03-02T12:00:00Z',
      producedAt: '2026-03-02T12:00:01Z',
      source: 'scoring-service',
      payload: {
        scoreId: 's-1',
        featureEventId: 'f-1',
        eventTime: '2026-03-02T12:00:00Z',
        scoredAt: '2026-03-02T12:00:01Z',
        mode: 'model',
        probability: 0.12,
        band: 'medium',
        news2: 5,
        news2Band: 'medium',
        model: { name: 'm', version: '1' },
        features: { heart_rate_hours_since: 1 },
        topFeatures: [],
        latencyMs: 1,
        context: { unit: 'MICU' },
      },
    });
    expect(input).toEqual({ scoreId: 's-1', patientId: 'p-9', encounterId: null, at: Date.parse('2026-03-02T12:00:00Z'), probability: 0.12, news2: 5, news2Band: 'medium', band: 'medium', unit: 'MICU', observedAt: Date.parse('2026-03-02T11:00:00Z') });
  });

  it('reads a score off the wire (its features by catalogue index) as it reads the same score with names', () => {
    const hours: Record<string, number | null> = { respiratory_rate_hours_since: 0.5, spo2_hours_since: 1.5, systolic_bp_hours_since: null, heart_rate_hours_since: 0 };
    const features = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, name in hours ? hours[name]! : i % 3 === 0 ? null : i]));
    const score: SeverityScoreEvent = {
      schema: 'severity_score',
      schemaVersion: 1,
      eventId: 's-2',
      patientId: 'p-9',
      encounterId: 'e-1',
      occurredAt: '2026-03-02T12:00:00.000Z',
      producedAt: '2026-03-02T12:00:01.000Z',
      source: 'scoring-service',
      payload: { scoreId: 's-2', featureEventId: 'f-2', eventTime: '2026-03-02T12:00:00.000Z', scoredAt: '2026-03-02T12:00:01.000Z', mode: 'model', probability: 0.4, band: 'high', news2: 7, news2Band: 'high', model: { name: 'm', version: '1' }, features, topFeatures: [], latencyMs: 1 },
    };
    const decoded = decodeSeverityScore(encodeSeverityScore(score));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(catalogueOf(decoded.value.payload)).toBeDefined();
    const input = scoreInputOf(decoded.value);
    expect(input).toEqual(scoreInputOf(score));
    expect(input.observedAt).toBe(Date.parse('2026-03-02T10:30:00Z'));
  });
});
