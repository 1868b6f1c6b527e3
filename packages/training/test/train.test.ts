import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '@ehr/features';
import { ForestPredictor, leafVote, loadModelArtifact, withSentinel } from '@ehr/model';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDataset, parseTrainArgs, splitByPatient, trainModel, type Dataset, type TrainingOptions, type TrainingResult } from '../src/index.js';
import { SMALL_ARGS, tempDir } from './helpers.js';

// ml-random-forest 2.1.0's bundled declarations do not compile: describe what we use.
interface MlMatrix {
  getRow(i: number): number[];
  getColumn(j: number): number[];
}
interface MlRandomForestClassifier {
  nEstimators: number;
  predictionValues(rows: number[][]): MlMatrix;
}
const require = createRequire(import.meta.url);
const { RandomForestClassifier } = require('ml-random-forest') as { RandomForestClassifier: { load(json: unknown): MlRandomForestClassifier } };

const dir = tempDir('train');

function optionsFor(args: string[]): TrainingOptions {
  const c = parseTrainArgs(args);
  if (c.mode !== 'train') throw new Error('expected train options');
  return c.options;
}

describe('training pipeline', () => {
  let data: Dataset;
  let first: TrainingResult;
  beforeAll(async () => {
    data = await buildDataset(optionsFor(SMALL_ARGS).source);
    first = await trainModel({ ...optionsFor([...SMALL_ARGS, '--out', join(dir, 'a', 'model.json'), '--export', 'ml-random-forest']), dataset: data });
  }, 120_000);

  it('same data, same seed, same content hash (any number of workers); another seed, another hash', async () => {
    const again = await trainModel({ ...optionsFor([...SMALL_ARGS, '--out', join(dir, 'b', 'model.json'), '--report', 'none', '--workers', '1']) });
    expect(again.artifact.contentHash).toBe(first.artifact.contentHash);
    expect(again.dataset.rows).toBe(data.rows);
    const other = await trainModel({ ...optionsFor([...SMALL_ARGS, '--seed', '4', '--cohort-seed', '3', '--out', join(dir, 'c', 'model.json'), '--report', 'none']), dataset: data });
    expect(other.artifact.contentHash).not.toBe(first.artifact.contentHash);
  }, 120_000);

  it('writes an artifact the scoring service accepts: the served feature set, all names served, band thresholds', async () => {
    const m = await loadModelArtifact(join(dir, 'a', 'model.json'));
    expect(m.contentHash).toBe(first.artifact.contentHash);
    expect(m.featureSchemaVersion).toBe(FEATURE_SET_VERSION);
    expect(m.featureNames).toEqual([...FEATURE_NAMES]);
    expect(m.bands).not.toBeNull();
    expect(m.bands!.high).toBeGreaterThanOrEqual(m.bands!.medium);
    expect(m.artifact.training.validation).toBe('provided');
    expect(m.artifact.metrics.test).not.toBeNull();
  });

  it('splits by patient: train, validation and test rows add up and share no patient', () => {
    const [train, validation, test] = first.splits;
    expect(train!.rows + validation!.rows + test!.rows).toBe(data.rows);
    expect(train!.patients + validation!.patients + test!.patients).toBe(data.patients.length);
    expect(first.artifact.training.forestRows).toBe(train!.rows);
    expect(first.artifact.training.validationRows).toBe(validation!.rows);
    expect(first.evaluation.rows).toBe(test!.rows);
  });

  it('exports the forest in ml-random-forest JSON: it loads, every tree votes as ours, probabilities are in [0, 1] and sum to 1', async () => {
    expect(first.exportPath).toBe(join(dir, 'a', 'model.ml-random-forest.json'));
    const rf = RandomForestClassifier.load(JSON.parse(readFileSync(first.exportPath!, 'utf8')));
    expect(rf.nEstimators).toBe(12);
    const split = splitByPatient(data.patientOf, data.y, data.patients.length, optionsFor(SMALL_ARGS).split, 3);
    const rows: number[][] = [];
    for (const i of split.test.slice(0, 600)) rows.push(withSentinel(data.X.subarray(i * data.cols, (i + 1) * data.cols)));
    expect(rows.some((r) => r.some((v) => v < -1e38))).toBe(true); // missing values go through the sentinel
    const votes = rf.predictionValues(rows);
    const ours = new ForestPredictor(first.model.forest);
    let disagreements = 0;
    rows.forEach((row, i) => {
      const values = ours.treeValues(row);
      const theirs = votes.getRow(i);
      for (let t = 0; t < values.length; t++) if (theirs[t] !== leafVote(values[t]!)) disagreements++;
    });
    expect(disagreements).toBe(0);
    // Class probabilities as ml-random-forest's vote shares (its predictProbability in 2.1.0
    // reduces without an initial value and so drops the first tree's vote).
    for (let i = 0; i < rows.length; i++) {
      const v = votes.getRow(i);
      const p1 = v.filter((x) => x === 1).length / v.length;
      const p0 = v.filter((x) => x === 0).length / v.length;
      expect(p1).toBeGreaterThanOrEqual(0);
      expect(p1).toBeLessThanOrEqual(1);
      expect(p0 + p1).toBe(1);
    }
    const ourP = first.model.predictProbaBatch(rows.map((r) => r.map((v) => (v < -1e38 ? null : v))));
    for (const p of ourP) expect(p >= 0 && p <= 1).toBe(true);
    // Both sides of a probability sum to 1 for our model too.
    expect(Array.from(ourP, (p) => p + (1 - p)).every((s) => Math.abs(s - 1) < 1e-12)).toBe(true);
  });

  it('writes one self-contained HTML report beside the model: ROC, PR, calibration, importance plots and confusion matrices, model against NEWS2', () => {
    expect(first.reportPath).toBe(join(dir, 'a', 'report.html'));
    const html = readFileSync(first.reportPath!, 'utf8');
    for (const id of ['roc', 'pr', 'calibration']) expect(html).toMatch(new RegExp(`<figure id="${id}"><svg[^>]*>[\\s\\S]*?<path d="M`));
    expect(html).toMatch(/<figure id="importance"><svg[^>]*>(?:(?!<\/svg>)[\s\S])*<rect x="\d+" y="\d+" width="[1-9]/);
    expect(html).toContain('data-series="NEWS2');
    expect(html).toContain('data-series="Random Forest');
    expect(html.match(/<table class="confusion">/g)).toHaveLength(4);
    expect(html).toContain('NEWS2 ≥ 5');
    expect(html).toMatch(/<table class="metrics" id="metrics">[\s\S]*AUROC[\s\S]*Brier[\s\S]*ECE/);
    expect(html).toContain(first.artifact.contentHash);
    // Nothing fetched from anywhere: no script, no external source or link.
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
  });
});
