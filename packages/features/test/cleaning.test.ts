import { describe, expect, it } from 'vitest';
import { cleanEvent, type VitalSignPayload } from '../src/index.js';
import { lab, vital } from './helpers.js';

const value = (e: ReturnType<typeof cleanEvent>) => (e.ok ? (e.event.payload as VitalSignPayload).value : null);

describe('cleaning: units first', () => {
  it('converts °F to °C and keeps °C', () => {
    expect(value(cleanEvent(vital('p', 'temperature', 98.6, 0, { unit: '[degF]' })))).toBeCloseTo(37, 10);
    // 212 °F is 100 °C: converted, then rejected as implausible.
    expect(value(cleanEvent(vital('p', 'temperature', 212, 0, { unit: '°F' })))).toBeNull();
    const c = cleanEvent(vital('p', 'temperature', 37.2, 0, { unit: 'Cel' }));
    expect(c).toMatchObject({ ok: true, correction: null });
    expect(value(c)).toBe(37.2);
  });

  it('repairs °F values charted as °C, and says so', () => {
    const c = cleanEvent(vital('p', 'temperature', 99, 0, { unit: 'Cel' }));
    expect(c).toMatchObject({ ok: true, correction: 'fahrenheit_charted_as_celsius' });
    expect(value(c)).toBeCloseTo((99 - 32) * (5 / 9), 10);
    expect(c.ok && c.event.payload).toMatchObject({ unit: 'Cel' });
  });

  it('rejects a "°C" value that is neither Celsius nor Fahrenheit', () => {
    expect(cleanEvent(vital('p', 'temperature', 60, 0, { unit: 'Cel' }))).toMatchObject({ ok: false, reason: 'implausible_value' });
  });

  it('takes FiO2 as a fraction or a percent', () => {
    expect(value(cleanEvent(vital('p', 'fio2', 0.4, 0, { unit: '1' })))).toBe(0.4);
    expect(value(cleanEvent(vital('p', 'fio2', 40, 0, { unit: '%' })))).toBeCloseTo(0.4, 12);
    const slip = cleanEvent(vital('p', 'fio2', 60, 0, { unit: '1' }));
    expect(slip).toMatchObject({ ok: true, correction: 'fio2_percent_charted_as_fraction' });
    expect(value(slip)).toBeCloseTo(0.6, 12);
    expect(cleanEvent(vital('p', 'fio2', 0.1, 0, { unit: '1' }))).toMatchObject({ ok: false, reason: 'implausible_value' });
  });

  it('converts lab units to the canonical ones', () => {
    expect(value(cleanEvent(lab('p', 'creatinine', 88.42, 0, { unit: 'umol/L' })))).toBeCloseTo(1, 10);
    expect(value(cleanEvent(lab('p', 'glucose', 5, 0, { unit: 'mmol/L' })))).toBeCloseTo(90.08, 10);
    expect(value(cleanEvent(lab('p', 'sodium', 140, 0, { unit: 'mEq/L' })))).toBe(140);
    expect(value(cleanEvent(vital('p', 'heart_rate', 80, 0, { unit: 'bpm' })))).toBe(80);
    expect(value(cleanEvent(vital('p', 'systolic_bp', 16, 0, { unit: 'kPa' })))).toBeCloseTo(120.01, 2);
  });

  it('rejects an unknown unit, naming the unit and the signal', () => {
    const c = cleanEvent(vital('p', 'heart_rate', 80, 0, { unit: 'furlongs' }));
    expect(c).toMatchObject({ ok: false, reason: 'unknown_unit' });
    expect(!c.ok && c.error).toMatch(/"furlongs" for heart_rate/);
  });
});

describe('cleaning: plausibility after units', () => {
  it.each([
    ['heart_rate', 301],
    ['heart_rate', -1],
    ['systolic_bp', 401],
    ['diastolic_bp', 301],
    ['mean_bp', 301],
    ['respiratory_rate', 71],
    ['spo2', 101],
    ['temperature', 9.9],
    ['gcs', 2],
    ['gcs', 14.5],
    ['avpu', 5],
  ] as const)('%s %s is implausible', (kind, v) => {
    const c = cleanEvent(vital('p', kind, v, 0));
    expect(c).toMatchObject({ ok: false, reason: 'implausible_value' });
    expect(!c.ok && c.issues[0]).toMatchObject({ path: 'payload.value' });
  });

  it.each([
    ['heart_rate', 0],
    ['heart_rate', 300],
    ['systolic_bp', 400],
    ['respiratory_rate', 70],
    ['spo2', 100],
    ['temperature', 10],
    ['temperature', 50],
  ] as const)('%s %s is at the limit and kept', (kind, v) => {
    expect(cleanEvent(vital('p', kind, v, 0)).ok).toBe(true);
  });

  it('judges °F after conversion: 120 °F is plausible, 130 °F is not', () => {
    expect(cleanEvent(vital('p', 'temperature', 120, 0, { unit: '[degF]' })).ok).toBe(true);
    const c = cleanEvent(vital('p', 'temperature', 130, 0, { unit: '[degF]' }));
    expect(!c.ok && c.error).toMatch(/sent as 130 \[degF\]/);
  });

  it('passes events without a value unchanged', () => {
    const e = { ...vital('p', 'heart_rate', 80, 0), schema: 'discharge', payload: { outcome: 'home' } } as const;
    expect(cleanEvent(e as never)).toMatchObject({ ok: true, event: e });
  });
});
