// ml-random-forest 2.1.0 on the first --rows rows of a training CSV, as far as it gets:
// it grows `--trees` trees (default 10; its split search is quadratic in rows, so 200 trees
// at 5,000 × 60 take a long time) and reports seconds per tree, the extrapolation to 200,
// and the test AUROC/AUPRC of its vote share (its predictProbability drops a vote, so the
// share is computed from predictionValues). Missing cells become MISSING_SENTINEL.
// Options: all features per tree (ml-random-forest bags features per tree, not per split),
// maxDepth and minNumSamples from the flags, ml-cart's other defaults (gainThreshold 0.01).
//
//   tsx bench/ml-rf-compare.ts --train train.csv --test test.csv [--rows 5000] [--trees 10]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { auprc, auroc, readTrainingCsv, withSentinel } from '../src/index.js';
import { numberFlag, requiredFlag } from './flags.js';

interface MlRf {
  train(x: number[][], y: number[]): void;
  predictionValues(x: number[][]): { rows: number; getRow(i: number): number[] };
}
const require = createRequire(import.meta.url);
const { RandomForestClassifier } = require('ml-random-forest') as { RandomForestClassifier: new (o: object) => MlRf };

const train = await readTrainingCsv(requiredFlag('train'));
const test = await readTrainingCsv(requiredFlag('test'));
const rows = Math.min(numberFlag('rows', 5000), train.X.rows);
const trees = numberFlag('trees', 10);
const nF = train.X.cols;
const toRows = (data: Float64Array, n: number): number[][] =>
  Array.from({ length: n }, (_, i) => withSentinel(data.subarray(i * nF, (i + 1) * nF)));
const X = toRows(train.X.data, rows);
const y = Array.from(train.y.subarray(0, rows));
const testRows = Math.min(numberFlag('test-rows', 5000), test.X.rows);
const Xt = toRows(test.X.data, testRows);
const yt = test.y.subarray(0, testRows);

const rf = new RandomForestClassifier({
  nEstimators: trees,
  maxFeatures: 1.0,
  replacement: false,
  useSampleBagging: true,
  noOOB: true,
  seed: numberFlag('seed', 0),
  treeOptions: { maxDepth: numberFlag('depth', 12), minNumSamples: numberFlag('min-leaf', 5) },
});
const t0 = performance.now();
const c0 = process.cpuUsage();
rf.train(X, y);
const trainSeconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const votes = rf.predictionValues(Xt);
const share = new Float64Array(testRows);
for (let i = 0; i < testRows; i++) share[i] = votes.getRow(i).reduce((a, b) => a + b, 0) / trees;
process.stdout.write(
  JSON.stringify({
    impl: 'ml-random-forest@2.1.0',
    rows,
    features: nF,
    trees,
    trainSeconds: +trainSeconds.toFixed(2),
    cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    secondsPerTree: +(trainSeconds / trees).toFixed(2),
    extrapolated200TreesSeconds: Math.round((trainSeconds / trees) * 200),
    testRows,
    auroc: +auroc(yt, share).toFixed(4),
    auprc: +auprc(yt, share).toFixed(4),
  }) + '\n',
);
