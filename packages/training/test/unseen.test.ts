// An evaluation reports only on patients the model never saw (the artifact lists those it
// was trained or tuned on, or that a choice behind it was made on): evaluating on the training source must give the held-out
// patients' figures, not figures partly learnt from the answers.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEDS_DEMO_RELATIVE_PATH } from '@ehr/cohort';
import { seenPatientsOf, type SeverityModel } from '@ehr/model';
import { describe, expect, it } from 'vitest';
import { buildDataset, evaluateModel, evaluateOnData, parseTrainArgs, trainModel, unseenNote, unseenRows } from '../src/index.js';
import { SMALL_ARGS, tempDir } from './helpers.js';

const dir = tempDir('unseen');

const modelSeeing = (ids: string[] | null) => ({ version: 'v-test', artifact: ids === null ? {} : { seenPatients: seenPatientsOf(ids) } }) as unknown as SeverityModel;

describe('unseenRows', () => {
  const data = { rows: 5, patientOf: [0, 1, 0, 2, 1], patients: ['a', 'b', 'c'] };

  it('keeps the rows of patients the artifact does not list, in order', () => {
    const r = unseenRows(modelSeeing(['a', 'x']), data, 'here');
    expect(r.rows).toEqual([1, 3, 4]);
    expect([...r.excluded]).toEqual([0]);
    expect(r.known).toBe(true);
  });

  it('says what was left out: patients trained or tuned on, or that a choice behind the model was made on (a subset model lists its full split)', () => {
    expect(unseenNote(unseenRows(modelSeeing(['a', 'x']), data, 'here'))).toBe('1 patients the model was trained or tuned on, or that a choice behind it was made on, were left out.');
    expect(unseenNote(unseenRows(modelSeeing(['x']), data, 'here'))).toMatch(/nor was any choice behind it made on them/);
  });

  it('refuses when every patient was seen, and says when the artifact keeps no list', () => {
    expect(() => unseenRows(modelSeeing(['a', 'b', 'c']), data, 'here')).toThrow(/every patient in here was used to train or tune model v-test/);
    const r = unseenRows(modelSeeing(null), data, 'here');
    expect(r.rows).toEqual([0, 1, 2, 3, 4]);
    expect(r.known).toBe(false);
  });
});

describe('npm run train -- --evaluate on the source the model was trained on', () => {
  it('reports the held-out patients only: the same rows and AUROC as the training run\'s test split', async () => {
    const command = parseTrainArgs([...SMALL_ARGS, '--out', join(dir, 'model.json')]);
    if (command.mode !== 'train') throw new Error(command.mode);
    const dataset = await buildDataset(command.options.source);
    const trained = await trainModel({ ...command.options, dataset, createdAt: '2026-01-01T00:00:00.000Z' });
    const again = parseTrainArgs([...SMALL_ARGS, '--evaluate', trained.modelPath, '--report', join(dir, 'eval.html')]);
    if (again.mode !== 'evaluate') throw new Error(again.mode);
    const external = await evaluateModel({ ...again.options, dataset });
    const test = trained.splits.find((s) => s.name.startsWith('test'))!;
    expect(external.evaluation.rows).toBe(test.rows);
    expect(external.evaluation.patients).toBe(test.patients);
    expect(external.evaluation.rows).toBeLessThan(dataset.rows);
    expect(external.evaluation.model.auroc).toBe(trained.evaluation.model.auroc);
  }, 120_000);
});

const meds = join(fileURLToPath(new URL('../../../', import.meta.url)), MEDS_DEMO_RELATIVE_PATH);

describe('npm run evaluate on the MEDS file the model was trained on (the MIMIC-IV demo)', () => {
  it.skipIf(!existsSync(meds))(existsSync(meds) ? 'leaves out the 80 patients of its training and validation splits' : 'SKIPPED: the shared data is not beside the checkout', async () => {
    const source = { kind: 'meds', file: meds } as const;
    const label = { kind: 'outcome', horizonHours: 12, icuTransfer: true } as const;
    const dataset = await buildDataset(source, label);
    const out = join(dir, 'meds', 'model.json');
    const forest = { nTrees: 5, maxDepth: 6, maxFeatures: 'sqrt', minSamplesLeaf: 5, workers: 0 } as const;
    const trained = await trainModel({ source, label, dataset, out, report: null, exportMlRandomForest: null, seed: 1, forest, bootstrap: 0, createdAt: '2026-01-01T00:00:00Z' });
    const test = trained.splits.find((s) => s.name.startsWith('test'))!;
    // The artifact names the file, never where it sat on this machine.
    expect(trained.artifact.provenance?.description).toBe('MEDS file mimic_iv_demo_meds_events.parquet');
    const r = await evaluateOnData({ model: out, data: meds, bootstrap: 0 });
    expect(r.excludedPatients).toBe(dataset.patients.length - test.patients);
    expect(r.evaluation.patients).toBe(test.patients);
    expect(r.evaluatedOn).toMatch(/of a patient the model never saw: \d+ vectors .* of 20 patients \(80 patients the model was trained or tuned on, or that a choice behind it was made on, left out\)/);
  }, 300_000);
});
