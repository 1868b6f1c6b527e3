import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDataset, crossValidate, parseTrainArgs, patientFolds } from '../src/index.js';
import { SMALL_ARGS, SMALL_COHORT, tempDir } from './helpers.js';

const dir = tempDir('cv');

describe('cross-validation by patient', () => {
  it('deals patients (with and without events) into k folds, deterministically', async () => {
    const data = await buildDataset(SMALL_COHORT);
    const fold = patientFolds(data.patientOf, data.y, data.patients.length, 4, 2);
    const positive = new Set<number>();
    for (let i = 0; i < data.rows; i++) if (data.y[i]) positive.add(data.patientOf[i]!);
    for (let f = 0; f < 4; f++) {
      const members = [...fold.keys()].filter((p) => fold[p] === f);
      expect(Math.abs(members.length - data.patients.length / 4)).toBeLessThanOrEqual(1);
      expect(members.some((p) => positive.has(p))).toBe(true);
    }
    expect(Array.from(patientFolds(data.patientOf, data.y, data.patients.length, 4, 2))).toEqual(Array.from(fold));
    expect(() => patientFolds(data.patientOf, data.y, data.patients.length, 2)).toThrow(/from 3/);

    const command = parseTrainArgs([...SMALL_ARGS, '--folds', '3', '--report', join(dir, 'cv.html')]);
    if (command.mode !== 'cross-validate') throw new Error('expected cross-validation');
    const r = await crossValidate({ ...command.options, dataset: data });
    expect(r.folds).toHaveLength(3);
    expect(r.folds.reduce((a, f) => a + f.testRows, 0)).toBe(data.rows); // every row scored once
    expect(r.folds.reduce((a, f) => a + f.testPatients, 0)).toBe(data.patients.length);
    expect(r.evaluation.rows).toBe(data.rows);
    expect(r.evaluation.model.auroc).toBeGreaterThan(0.5);
    const html = readFileSync(r.reportPath, 'utf8');
    expect(html).toContain('3-fold cross-validation by patient');
    expect(html).toMatch(/<figure id="roc"><svg/);
  }, 120_000);

  it('--folds reports only: it refuses --export and --split', () => {
    expect(() => parseTrainArgs(['--folds', '5', '--export', 'ml-random-forest'])).toThrow(/--folds/);
    expect(() => parseTrainArgs(['--folds', '2'])).toThrow(/--folds/);
    expect(parseTrainArgs(['--folds', '5'])).toMatchObject({ mode: 'cross-validate', options: { folds: 5, report: 'data/model/cv-report.html' } });
  });
});
