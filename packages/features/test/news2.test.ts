import { describe, expect, it } from 'vitest';
import {
  consciousnessScore,
  heartRateScore,
  news2,
  respiratoryRateScore,
  spo2Scale1Score,
  spo2Scale2Score,
  systolicBpScore,
  temperatureScore,
} from '../src/index.js';

// Each row: value → expected part, on both sides of every edge of the RCP chart.
describe('NEWS2 parameter scores at every band edge (RCP 2017 chart)', () => {
  it.each([
    [0, 3], [8, 3], [8.4, 3], [8.5, 1], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3], [60, 3],
  ])('respiration rate %s → %s', (rr, score) => expect(respiratoryRateScore(rr)).toBe(score));

  it.each([
    [80, 3], [91, 3], [91.4, 3], [91.5, 2], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0], [100, 0],
  ])('SpO2 scale 1: %s%% → %s', (s, score) => expect(spo2Scale1Score(s)).toBe(score));

  it.each([
    [83, false, 3], [84, false, 2], [85, false, 2], [86, false, 1], [87, false, 1], [88, false, 0], [92, false, 0],
    [93, false, 0], [97, false, 0], [100, false, 0],
    [83, true, 3], [84, true, 2], [87, true, 1], [88, true, 0], [92, true, 0], [93, true, 1], [94, true, 1],
    [95, true, 2], [96, true, 2], [97, true, 3], [100, true, 3],
  ])('SpO2 scale 2: %s%% on oxygen=%s → %s', (s, o2, score) => expect(spo2Scale2Score(s, o2)).toBe(score));

  it.each([
    [60, 3], [90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3], [260, 3],
  ])('systolic BP %s → %s', (sbp, score) => expect(systolicBpScore(sbp)).toBe(score));

  it.each([
    [30, 3], [40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3], [180, 3],
  ])('pulse %s → %s', (hr, score) => expect(heartRateScore(hr)).toBe(score));

  it.each([
    [34, 3], [35.0, 3], [35.04, 3], [35.05, 1], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.05, 1], [38.1, 1],
    [39.0, 1], [39.1, 2], [41, 2],
  ])('temperature %s °C → %s', (t, score) => expect(temperatureScore(t)).toBe(score));

  it.each([
    ['alert', 0], ['new_confusion', 3], ['voice', 3], ['pain', 3], ['unresponsive', 3],
  ] as const)('consciousness %s → %s', (level, score) => expect(consciousnessScore(level)).toBe(score));
});

const normal = {
  respiratoryRate: 16,
  spo2: 97,
  onOxygen: false,
  systolicBp: 120,
  heartRate: 70,
  consciousness: 'alert' as const,
  temperature: 37,
};

describe('NEWS2 aggregate and risk band', () => {
  it('scores a normal set as 0, low, complete', () => {
    const r = news2(normal);
    expect(r).toMatchObject({ total: 0, band: 'low', complete: true, missing: [] });
  });

  it('adds 2 for supplemental oxygen', () => {
    expect(news2({ ...normal, onOxygen: true }).parts.airOrOxygen).toBe(2);
  });

  it.each([
    [{ heartRate: 95, respiratoryRate: 22, temperature: 38.5 }, 4, 'low'], // 1+2+1
    [{ heartRate: 95, respiratoryRate: 22, temperature: 38.5, systolicBp: 105 }, 5, 'medium'],
    [{ heartRate: 115, respiratoryRate: 22, temperature: 38.5, systolicBp: 105 }, 6, 'medium'],
    [{ heartRate: 115, respiratoryRate: 22, temperature: 39.5, systolicBp: 105 }, 7, 'high'],
    [{ respiratoryRate: 26 }, 3, 'low_medium'], // a single 3 with a total ≤4
    [{ consciousness: 'voice' as const }, 3, 'low_medium'],
    [{ consciousness: 'voice' as const, heartRate: 95 }, 4, 'low_medium'],
    [{ consciousness: 'voice' as const, heartRate: 115 }, 5, 'medium'],
  ])('%o → total %s, band %s', (change, total, band) => {
    const r = news2({ ...normal, ...change });
    expect(r.total).toBe(total);
    expect(r.band).toBe(band);
  });

  it('uses scale 2 only when asked, and oxygen matters there', () => {
    expect(news2({ ...normal, spo2: 90 }).parts.spo2).toBe(3);
    expect(news2({ ...normal, spo2: 90, spo2Scale: 2 }).parts.spo2).toBe(0);
    expect(news2({ ...normal, spo2: 97, spo2Scale: 2, onOxygen: true }).parts.spo2).toBe(3);
    expect(news2({ ...normal, spo2: 97, spo2Scale: 2, onOxygen: false }).parts.spo2).toBe(0);
    const max = news2({ respiratoryRate: 30, spo2: 97, spo2Scale: 2, onOxygen: true, systolicBp: 80, heartRate: 140, consciousness: 'unresponsive', temperature: 34 });
    expect(max.total).toBe(20);
  });

  it('reports missing parameters and scores only what it has', () => {
    const r = news2({ heartRate: 120 });
    expect(r.total).toBe(2);
    expect(r.complete).toBe(false);
    expect(r.missing).toEqual(['respiratoryRate', 'spo2', 'airOrOxygen', 'systolicBp', 'consciousness', 'temperature']);
  });
});
