// A MEDS file's unreadable rows are skipped by the reader and warned once per reason; training
// and `npm run evaluate` must pass those warnings on, or the user never hears why rows are
// missing. The parquet layer is replaced (no parquet writer here): the rows go through the
// real mapping, whose warnings `@ehr/cohort`'s own tests check.
import type * as Cohort from '@ehr/cohort';
import { vi, describe, expect, it } from 'vitest';

const T0 = Date.parse('2150-01-01T00:00:00Z');
const H = 3_600_000;

vi.mock('@ehr/cohort', async (importOriginal) => {
  const real = await importOriginal<typeof Cohort>();
  return {
    ...real,
    readMeds: async (_file: string, options: { warn?: (m: string) => void } = {}) =>
      real.mapMeds(
        [
          { subjectId: 1, time: T0, code: 'HOSPITAL_ADMISSION//EW EMER.', value: null },
          { subjectId: 1, time: T0 + H, code: 'LAB//220045//bpm', value: 80 },
          { subjectId: 1, time: NaN, code: 'LAB//220045//bpm', value: 81 },
          { subjectId: 1, time: T0 + 2 * H, code: 'LAB//220045//bpm', value: 82 },
          { subjectId: 1, time: T0 + 3 * H, code: 'HOSPITAL_DISCHARGE//HOME', value: null },
        ],
        options,
      ),
  };
});

describe('MEDS rows skipped while building a data set', () => {
  it('are warned through the progress given (training, cross-validation, evaluation)', async () => {
    const { buildDataset, labelledDataset } = await import('../src/index.js');
    const warnings: string[] = [];
    const data = await buildDataset({ kind: 'meds', file: 'events.parquet' }, { kind: 'outcome', horizonHours: 12 }, { warn: (m) => warnings.push(m) });
    expect(data.rows).toBeGreaterThan(0);
    expect(warnings).toEqual(['MEDS rows: 1 row(s) skipped: time is not a valid epoch-ms timestamp (first at row index 2)']);
    const through: string[] = [];
    await labelledDataset({ kind: 'meds', file: 'events.parquet' }, { kind: 'outcome', horizonHours: 12 }, { warn: (m) => through.push(m) });
    expect(through).toEqual(warnings);
  });
});
