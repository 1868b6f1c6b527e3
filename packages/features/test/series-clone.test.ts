import { describe, expect, it } from 'vitest';
import { clonePatientState, DEFAULT_ENGINE_OPTIONS, encodeState, processEvent, Series, type PatientState } from '../src/index.js';
import { admission, vital } from './helpers.js';

const points = (n: number) => Series.from(Array.from({ length: n }, (_, i) => i * 1000), Array.from({ length: n }, (_, i) => 60 + (i % 9)));
const snapshot = (s: Series) => ({ times: [...s.times], values: [...s.values], weights: s.weights && [...s.weights] });

describe('Series.clone', () => {
  it('keeps the copy as it was whatever the original does next, and the original whatever the copy does', () => {
    for (const n of [5, 40, 200]) {
      const original = points(n);
      const before = snapshot(original);
      const copy = original.clone();
      original.insert(n * 1000 + 5, 99); // appends (a push past 32 points)
      original.insert(500, 1); // in the middle (a splice past 32 points)
      original.pruneBefore(3000);
      expect(snapshot(copy), `${n} points`).toEqual(before);
      expect(copy.hasValue(99)).toBe(false);
      const changed = snapshot(original);
      copy.dropFirst(2);
      copy.insert(-1, 7);
      copy.downsampleBefore(n * 500, 60_000);
      expect(snapshot(original), `${n} points`).toEqual(changed);
    }
  });

  it('a patient backed up before a batch is exactly the patient before it, after the batch changed the original', () => {
    const states = new Map<string, PatientState>();
    processEvent(states, admission('p', 0), DEFAULT_ENGINE_OPTIONS);
    for (let h = 0; h < 60; h++) processEvent(states, vital('p', 'heart_rate', 70 + (h % 11), h / 4), DEFAULT_ENGINE_OPTIONS);
    const original = states.get('p')!;
    const before = encodeState(original);
    const backup = clonePatientState(original);
    for (let h = 60; h < 90; h++) processEvent(states, vital('p', h % 2 ? 'heart_rate' : 'spo2', 80 + (h % 7), h / 4), DEFAULT_ENGINE_OPTIONS);
    expect(encodeState(original)).not.toBe(before);
    expect(encodeState(backup)).toBe(before);
  });
});
