import { describe, expect, it } from 'vitest';
import { qsofa } from '../src/index.js';

describe('qSOFA', () => {
  it.each([
    [{ respiratoryRate: 21, systolicBp: 101, gcs: 15 }, 0, false],
    [{ respiratoryRate: 22, systolicBp: 101, gcs: 15 }, 1, false],
    [{ respiratoryRate: 22, systolicBp: 100, gcs: 15 }, 2, true],
    [{ respiratoryRate: 22, systolicBp: 100, gcs: 14 }, 3, true],
    [{ respiratoryRate: 10, systolicBp: 150, gcs: 14 }, 1, false],
  ])('%o → %s', (input, score, positive) => {
    expect(qsofa(input)).toMatchObject({ score, positive, missing: [] });
  });

  it('lists what is missing', () => {
    expect(qsofa({ systolicBp: 90 }).missing).toEqual(['respiratoryRate', 'gcs']);
  });
});
