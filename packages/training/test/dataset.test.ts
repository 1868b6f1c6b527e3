import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cohortMeta, cohortPatients, cohortStream, readMeds, writeCohort, MEDS_DEMO_RELATIVE_PATH } from '@ehr/cohort';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { buildDataset, cohortOptions, type DataSource } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir('dataset');

describe('training rows from each source', () => {
  it('the producer\'s cohort CSVs give exactly the rows and labels of the cohort they were written from', async () => {
    const source: Extract<DataSource, { kind: 'synthetic' }> = { kind: 'synthetic', seed: 9, patients: 12, hours: 36 };
    const options = cohortOptions(source);
    await writeCohort(join(dir, 'cohort'), { meta: cohortMeta(options), patients: cohortPatients(options), events: cohortStream(options) });
    const fromCsv = await buildDataset({ kind: 'cohort', dir: join(dir, 'cohort') });
    const generated = await buildDataset(source);
    expect(fromCsv.rows).toBeGreaterThan(1000);
    expect(fromCsv.rows).toBe(generated.rows);
    expect(Buffer.from(fromCsv.y).equals(Buffer.from(generated.y))).toBe(true);
    expect(fromCsv.X.length).toBe(generated.X.length);
    for (let i = 0; i < fromCsv.X.length; i++) if (!Object.is(fromCsv.X[i], generated.X[i])) throw new Error(`value ${i} differs: ${fromCsv.X[i]} vs ${generated.X[i]}`);
    expect(fromCsv.featureNames).toEqual(FEATURE_NAMES);
    expect(fromCsv.featureSetVersion).toBe(FEATURE_SET_VERSION);
    expect(fromCsv.y.some((v) => v === 1)).toBe(true);
  }, 60_000);

  it('cohort CSVs without patients.csv cannot give outcome labels (and say what to do)', async () => {
    await expect(buildDataset({ kind: 'cohort', dir: join(dir, 'missing') })).rejects.toThrow(/not a cohort directory/);
  });

  const meds = fileURLToPath(new URL(`../../../${MEDS_DEMO_RELATIVE_PATH}`, import.meta.url));
  it.skipIf(!existsSync(meds))('the MIMIC-IV demo: every vector labelled by death in hospital within the horizon, positives only in stays that ended in death', async () => {
    const data = await buildDataset({ kind: 'meds', file: meds }, { kind: 'outcome', horizonHours: 24 });
    const { patients } = await readMeds(meds);
    expect(data.patients.length).toBe(100);
    expect(data.stats.unlabelled).toBe(0);
    expect(data.rows).toBeGreaterThan(100_000);
    const died = new Set(patients.flatMap((p) => p.admissions.filter((a) => a.died).map((a) => a.encounterId)));
    let positives = 0;
    for (let i = 0; i < data.rows; i++) {
      if (data.y[i] !== 1) continue;
      positives++;
      expect(died.has(data.meta[i]!.encounterId!)).toBe(true);
    }
    expect(positives).toBeGreaterThan(500);
    expect(data.labelDescription).toBe("death in hospital within 24 h after the row's time");
  }, 180_000);
});
