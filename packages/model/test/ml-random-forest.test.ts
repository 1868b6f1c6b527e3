import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  exportMlRandomForest,
  ForestPredictor,
  leafVote,
  MISSING_SENTINEL,
  trainSeverityModel,
  withSentinel,
} from '../src/index.js';
import { nonlinearProblem } from './helpers.js';

// ml-random-forest 2.1.0's bundled type declarations do not compile, so describe the
// part we use here and load the package through require.
interface MlMatrix {
  rows: number;
  getRow(i: number): number[];
}
interface MlRandomForestClassifier {
  nEstimators: number;
  predictionValues(rows: number[][]): MlMatrix;
  predict(rows: number[][]): number[];
  toJSON(): unknown;
}
const require = createRequire(import.meta.url);
const { RandomForestClassifier } = require('ml-random-forest') as {
  RandomForestClassifier: { load(json: unknown): MlRandomForestClassifier };
};

describe('ml-random-forest 2.1.0 interchange', () => {
  it('RandomForestClassifier.load accepts the export and every tree votes as ours, missing values included', async () => {
    const data = nonlinearProblem(2500, 41, { noise: 0.05, missing: true });
    const { model } = await trainSeverityModel({
      name: 'export-check',
      X: data.X,
      y: data.y,
      featureNames: data.names,
      forest: { nTrees: 15, maxDepth: 7, minSamplesLeaf: 2, workers: 1, classWeight: 'balanced' },
      seed: 8,
      validation: null,
    });
    // Through a JSON string, as a file would carry it.
    const json: unknown = JSON.parse(JSON.stringify(exportMlRandomForest(model)));
    const rf = RandomForestClassifier.load(json);
    expect(rf.nEstimators).toBe(15);

    const probe = nonlinearProblem(400, 42, { missing: true });
    const rows = probe.X.map((r) => withSentinel(r));
    // Also rows sitting exactly on thresholds (value == threshold goes right in both).
    const f = model.forest;
    for (let i = 0; i < f.feature.length && rows.length < 600; i++) {
      if (f.feature[i]! < 0) continue;
      const r = [...rows[rows.length % 400]!];
      r[f.feature[i]!] = f.threshold[i]!;
      rows.push(r);
    }
    expect(rows.some((r) => r.includes(MISSING_SENTINEL))).toBe(true);

    const votes = rf.predictionValues(rows);
    const pred = new ForestPredictor(model.forest);
    let disagreements = 0;
    rows.forEach((row, i) => {
      const ours = pred.treeValues(row);
      const theirs = votes.getRow(i);
      for (let t = 0; t < ours.length; t++) if (theirs[t] !== leafVote(ours[t]!)) disagreements++;
    });
    expect(disagreements).toBe(0);

    // null / NaN rows mapped by withSentinel match our handling of the raw row
    const raw = probe.X.find((r) => r[4] === null)!;
    const ours = pred.treeValues(raw).map(leafVote);
    expect(rf.predictionValues([withSentinel(raw)]).getRow(0)).toEqual(Array.from(ours));
    const nanRow = raw.map((v) => (v === null ? NaN : v));
    expect(Array.from(pred.treeValues(nanRow).map(leafVote))).toEqual(Array.from(ours));
  });

  it('exports leaves as class distributions that sum to 1', async () => {
    const data = nonlinearProblem(600, 43);
    const { model } = await trainSeverityModel({ name: 'x', X: data.X, y: data.y, featureNames: data.names, forest: { nTrees: 3, workers: 1 }, validation: null });
    const exported = exportMlRandomForest(model.artifact);
    let leaves = 0;
    const walk = (node: { distribution?: number[][]; left?: unknown; right?: unknown; splitValue?: number }): void => {
      if (node.distribution) {
        leaves++;
        const [d] = node.distribution;
        expect(d).toHaveLength(2);
        expect(d![0]! + d![1]!).toBeCloseTo(1, 15);
        expect(node.splitValue).toBeUndefined();
      } else {
        walk(node.left as never);
        walk(node.right as never);
      }
    };
    for (const e of exported.baseModel.estimators) walk(e.root);
    expect(leaves).toBe(Array.from(model.forest.feature).filter((v) => v < 0).length);
    expect(exported.baseModel.indexes[0]).toEqual(data.names.map((_, i) => i));
  });
});
