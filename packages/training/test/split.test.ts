import { describe, expect, it } from 'vitest';
import { buildDataset, parseSplit, splitByPatient } from '../src/index.js';
import { SMALL_COHORT } from './helpers.js';

describe('patient-level split', () => {
  it('puts every patient in exactly one split, with positives in each, deterministically', async () => {
    const data = await buildDataset(SMALL_COHORT);
    const split = splitByPatient(data.patientOf, data.y, data.patients.length, { train: 0.6, validation: 0.2, test: 0.2 }, 11);
    const owner = new Map<number, string>();
    for (const [name, rows] of [['train', split.train], ['validation', split.validation], ['test', split.test]] as const) {
      let positives = 0;
      for (const i of rows) {
        const p = data.patientOf[i]!;
        expect(owner.get(p) ?? name).toBe(name); // no patient in two splits
        owner.set(p, name);
        positives += data.y[i]!;
      }
      expect(positives).toBeGreaterThan(0);
    }
    expect(split.train.length + split.validation.length + split.test.length).toBe(data.rows);
    expect(owner.size).toBe(data.patients.length);
    expect(split.patients.test.length).toBeGreaterThanOrEqual(Math.floor(data.patients.length * 0.2) - 1);
    const again = splitByPatient(data.patientOf, data.y, data.patients.length, { train: 0.6, validation: 0.2, test: 0.2 }, 11);
    expect(Array.from(again.test)).toEqual(Array.from(split.test));
    const other = splitByPatient(data.patientOf, data.y, data.patients.length, { train: 0.6, validation: 0.2, test: 0.2 }, 12);
    expect(Array.from(other.test)).not.toEqual(Array.from(split.test));
  });

  it('parses train,validation,test fractions', () => {
    expect(parseSplit('0.6,0.2,0.2')).toEqual({ train: 0.6, validation: 0.2, test: 0.2 });
    expect(parseSplit('3,1,1')).toEqual({ train: 0.6, validation: 0.2, test: 0.2 });
    expect(() => parseSplit('0.8,0.2')).toThrow(/three fractions/);
  });
});
