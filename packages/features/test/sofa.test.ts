import { describe, expect, it } from 'vitest';
import { sirsCount, sofaParts, sofaTotal } from '../src/index.js';

describe('partial SOFA, at every cut-off', () => {
  const part = (input: Parameters<typeof sofaParts>[0], name: keyof ReturnType<typeof sofaParts>) => sofaParts(input)[name];
  it.each([[400, 0], [399, 1], [315, 1], [314, 2], [235, 2], [234, 3], [150, 3], [149, 4]])('S/F %s → respiration %s', (x, p) => expect(part({ spo2FiO2: x }, 'respiration')).toBe(p));
  it.each([[150, 0], [149, 1], [100, 1], [99, 2], [50, 2], [49, 3], [20, 3], [19, 4]])('platelets %s → coagulation %s', (x, p) => expect(part({ platelets: x }, 'coagulation')).toBe(p));
  it.each([[1.1, 0], [1.2, 1], [1.9, 1], [2, 2], [5.9, 2], [6, 3], [11.9, 3], [12, 4]])('bilirubin %s → liver %s', (x, p) => expect(part({ bilirubin: x }, 'liver')).toBe(p));
  it.each([[70, 0], [69.9, 1]])('MAP %s → cardiovascular %s', (x, p) => expect(part({ meanArterialPressure: x }, 'cardiovascular')).toBe(p));
  it.each([[1.1, 0], [1.2, 1], [1.9, 1], [2, 2], [3.4, 2], [3.5, 3], [4.9, 3], [5, 4]])('creatinine %s → renal %s', (x, p) => expect(part({ creatinine: x }, 'renal')).toBe(p));
  it.each([[15, 0], [14, 1], [13, 1], [12, 2], [10, 2], [9, 3], [6, 3], [5, 4]])('GCS %s → CNS %s', (x, p) => expect(part({ gcs: x }, 'cns')).toBe(p));

  it('unknown parts are null and add nothing to the total', () => {
    const parts = sofaParts({ platelets: 90, creatinine: null, bilirubin: Number.NaN });
    expect(parts).toEqual({ respiration: null, coagulation: 2, liver: null, cardiovascular: null, renal: null, cns: null });
    expect(sofaTotal(parts)).toBe(2);
    expect(sofaTotal(sofaParts({}))).toBe(0);
  });
});

describe('SIRS criteria', () => {
  it.each([
    [{}, 0],
    [{ temperature: 38, heartRate: 90, respiratoryRate: 20, wbc: 12 }, 0],
    [{ temperature: 38.1, heartRate: 91, respiratoryRate: 21, wbc: 12.1 }, 4],
    [{ temperature: 35.9, wbc: 3.9 }, 2],
    [{ respiratoryRate: 16, paco2: 31 }, 1],
    [{ respiratoryRate: 22, paco2: 31 }, 1],
    [{ temperature: 36, paco2: 32 }, 0],
  ])('%o → %s', (input, n) => expect(sirsCount(input)).toBe(n));
});
