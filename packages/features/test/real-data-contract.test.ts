import { describe, expect, it } from 'vitest';
import {
  buildSampledRows,
  cleanEvent,
  createPatientState,
  decodeState,
  DEFAULT_ENGINE_OPTIONS,
  encodeState,
  EXTENDED_LAB_KINDS,
  featureIndex,
  processEvent,
  SIGNALS,
  validateRawEvent,
  type PatientState,
  type RawEvent,
} from '../src/index.js';
import { admission, at, H, lab, T0, vital } from './helpers.js';

describe('the widened contract: blood gases, the ICU panel, EtCO2, hospital admission time', () => {
  it('accepts the new kinds in their canonical units and converts the usual alternatives', () => {
    const ok = (e: RawEvent) => {
      const v = validateRawEvent(e);
      expect(v.ok, JSON.stringify(v)).toBe(true);
      const c = cleanEvent(e);
      if (!c.ok) throw new Error(c.error);
      return c.event.schema === 'lab_result' || c.event.schema === 'vital_sign' ? c.event.payload : null;
    };
    expect(ok(lab('p', 'ph', 7.31, 0))).toMatchObject({ kind: 'ph', value: 7.31, unit: '[pH]' });
    expect(ok(lab('p', 'paco2', 6, 0, { unit: 'kPa' }))!.value).toBeCloseTo(45.0, 1);
    expect(ok(lab('p', 'calcium', 2.2, 0, { unit: 'mmol/L' }))!.value).toBeCloseTo(8.82, 2);
    expect(ok(lab('p', 'troponin_i', 40, 0, { unit: 'ng/L' }))!.value).toBeCloseTo(0.04, 6);
    expect(ok(lab('p', 'fibrinogen', 3.1, 0, { unit: 'g/L' }))!.value).toBeCloseTo(310, 6);
    expect(ok(lab('p', 'hematocrit', 0.31, 0, { unit: 'L/L' }))!.value).toBeCloseTo(31, 6);
    expect(ok(vital('p', 'etco2', 38, 0))).toMatchObject({ kind: 'etco2', value: 38, unit: 'mm[Hg]' });
    expect(EXTENDED_LAB_KINDS).toHaveLength(15);
  });

  it('dead-letters implausible values of the new kinds, and unknown units', () => {
    const bad = cleanEvent(lab('p', 'ph', 9.1, 0));
    expect(bad).toMatchObject({ ok: false, reason: 'implausible_value' });
    expect(cleanEvent(lab('p', 'ptt', 35, 0, { unit: 'furlongs' }))).toMatchObject({ ok: false, reason: 'unknown_unit' });
    expect(cleanEvent(vital('p', 'fio2', 4000, 0))).toMatchObject({ ok: false, reason: 'implausible_value' });
  });

  it('an admission may carry the hospital admission time: not after the admission, not more than a year before', () => {
    expect(cleanEvent(admission('p', 0, { hospitalAdmitTime: at(-30) })).ok).toBe(true);
    expect(cleanEvent(admission('p', 0, { hospitalAdmitTime: at(2) }))).toMatchObject({ ok: false, reason: 'implausible_value' });
    expect(cleanEvent(admission('p', 0, { hospitalAdmitTime: at(-24 * 400) }))).toMatchObject({ ok: false, reason: 'implausible_value' });
    expect(validateRawEvent(admission('p', 0, { hospitalAdmitTime: 'yesterday' })).ok).toBe(false);
  });

  it('keeps the series index of every signal that existed before (changelog states stay readable)', () => {
    expect(SIGNALS.slice(0, 12)).toEqual(['heart_rate', 'respiratory_rate', 'spo2', 'systolic_bp', 'diastolic_bp', 'mean_bp', 'temperature', 'gcs', 'avpu', 'fio2', 'o2_flow', 'supplemental_o2']);
    expect(SIGNALS.slice(12, 23)).toEqual(['wbc', 'lactate', 'creatinine', 'hemoglobin', 'platelets', 'sodium', 'potassium', 'bicarbonate', 'bilirubin', 'bun', 'glucose']);
    expect(SIGNALS[23]).toBe('etco2');
  });

  it('hours since hospital admission and the new lab features come out of the engine; the state codec keeps the time', () => {
    const store = new Map<string, PatientState>();
    processEvent(store, admission('p', 0, { hospitalAdmitTime: at(-26.5) }), DEFAULT_ENGINE_OPTIONS);
    const out = processEvent(store, lab('p', 'ph', 7.2, 2), DEFAULT_ENGINE_OPTIONS);
    if (out.kind !== 'featurized' || !out.vector) throw new Error('no vector');
    const v = out.vector.values;
    expect(v[featureIndex('hours_since_admission')]).toBe(2);
    expect(v[featureIndex('hours_since_hospital_admission')]).toBeCloseTo(28.5, 9);
    expect(v[featureIndex('ph')]).toBe(7.2);
    expect(v[featureIndex('ph_count_24h')]).toBe(1);
    expect(v[featureIndex('ph_hours_since')]).toBe(0);
    expect(v[featureIndex('paco2_count_24h')]).toBe(0);
    const state = store.get('p')!;
    expect(decodeState(encodeState(state)).state.admission!.hospitalAdmitTime).toBe(T0 - 26.5 * H);
    expect(createPatientState('x').admission).toBeNull();
  });
});

describe('rows sampled at chosen times (one per scored hour)', () => {
  const events = [admission('s', 0), vital('s', 'heart_rate', 80, 1), vital('s', 'heart_rate', 95, 2), lab('s', 'lactate', 3.1, 2), vital('s', 'heart_rate', 400, 3)];
  const times = [1, 2, 3, 4].map((h) => T0 + h * H);

  it('gives the vector of the state after every event up to that time: the one the service emits after the hour\'s last event', () => {
    const rows = buildSampledRows([{ patientId: 's', events, sampleTimes: times }]);
    expect(rows.rows).toBe(4);
    expect(rows.stats).toMatchObject({ stays: 1, events: 5, rejected: { implausible_value: 1 } });
    const get = (r: number, name: string) => rows.data[r * rows.cols + featureIndex(name)]!;
    expect(get(0, 'heart_rate')).toBe(80);
    expect(get(1, 'heart_rate')).toBe(95);
    expect(get(1, 'lactate')).toBeCloseTo(3.1, 5);
    expect(get(3, 'heart_rate_hours_since')).toBe(2);
    expect(Array.from(rows.times)).toEqual(times);
    // The engine's own vector after the hour-2 lactate equals row 1 (Float32).
    const store = new Map<string, PatientState>();
    let last: Float64Array | null = null;
    for (const e of events.slice(0, 4)) {
      const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
      if (o.kind === 'featurized' && o.vector) last = o.vector.values;
    }
    expect(Array.from(rows.data.subarray(rows.cols, 2 * rows.cols))).toEqual(Array.from(Float32Array.from(last!)));
  });

  it('a time before the stay\'s first event is an empty row; stays are numbered in order', () => {
    const rows = buildSampledRows([
      { patientId: 'a', events: [vital('a', 'heart_rate', 70, 5)], sampleTimes: [T0, T0 + 5 * H] },
      { patientId: 'b', events: [vital('b', 'heart_rate', 71, 1)], sampleTimes: [T0 + H] },
    ]);
    expect(rows.stats.emptyRows).toBe(1);
    expect(Array.from(rows.stayOf)).toEqual([0, 0, 1]);
    expect(Number.isNaN(rows.data[featureIndex('heart_rate')]!)).toBe(true);
    expect(rows.data[rows.cols + featureIndex('heart_rate')]).toBe(70);
  });
});

describe('units are looked up as own keys', () => {
  it('a unit spelled like an Object property is unknown, not a converter', () => {
    expect(cleanEvent(lab('p', 'ph', 7.3, 0, { unit: 'constructor' }))).toMatchObject({ ok: false, reason: 'unknown_unit' });
    expect(cleanEvent(vital('p', 'heart_rate', 80, 0, { unit: '__proto__' }))).toMatchObject({ ok: false, reason: 'unknown_unit' });
  });
});
