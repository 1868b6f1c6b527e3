import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_OPTIONS, FEATURE_COUNT, processEvent, type PatientState } from '../src/index.js';
import { admission, lab, vital } from './helpers.js';

describe('processEvent with a reused vector array', () => {
  it('writes each vector into it, with the values a new array gets (nothing left from the one before)', () => {
    const events = [admission('p1', 0), vital('p1', 'heart_rate', 88, 1), lab('p1', 'lactate', 3.1, 2), vital('p1', 'temperature', 38.4, 3), admission('p2', 0), vital('p2', 'spo2', 97, 1)];
    const fresh = new Map<string, PatientState>();
    const reused = new Map<string, PatientState>();
    const into = new Float64Array(FEATURE_COUNT).fill(12345);
    for (const e of events) {
      const a = processEvent(fresh, e, DEFAULT_ENGINE_OPTIONS);
      const b = processEvent(reused, e, DEFAULT_ENGINE_OPTIONS, into);
      if (a.kind !== 'featurized' || b.kind !== 'featurized') throw new Error('not featurized');
      expect(b.vector!.values).toBe(into);
      expect(Array.from(b.vector!.values)).toEqual(Array.from(a.vector!.values));
    }
  });
});
