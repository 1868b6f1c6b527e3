// Inference speed: single-row predictProba, batch, and contributions (top-5), for the
// first 100 and all 200 trees of one forest (tree t depends only on seed and t, so the
// first 100 trees are exactly a 100-tree forest).
//
//   tsx bench/inference.ts --train train.csv --test test.csv [--trees 200] [--depth 12] [--min-leaf 5] [--rows 5000]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { firstTrees, ForestPredictor, readTrainingCsv, trainForest } from '../src/index.js';
import { numberFlag, requiredFlag } from './flags.js';

const train = await readTrainingCsv(requiredFlag('train'));
const test = await readTrainingCsv(requiredFlag('test'));
const nTrees = numberFlag('trees', 200);
const trained = await trainForest(train.X, train.y, { nTrees, maxDepth: numberFlag('depth', 12), minSamplesLeaf: numberFlag('min-leaf', 5), maxFeatures: 'sqrt', seed: numberFlag('seed', 0) });
const nRows = Math.min(numberFlag('rows', 5000), test.X.rows);
const nF = test.X.cols;
const rows: Float64Array[] = Array.from({ length: nRows }, (_, i) => test.X.data.slice(i * nF, (i + 1) * nF));
const matrix = test.X.data.subarray(0, nRows * nF);

/** Best of `reps` runs: [wall ms, CPU ms] (CPU time is robust to other processes on the machine). */
function time(fn: () => void, reps: number): [number, number] {
  fn(); // warm up
  let best = Infinity;
  let bestCpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
  }
  return [best, bestCpu];
}

for (const k of [100, 200].filter((k) => k <= nTrees)) {
  const forest = firstTrees(trained.forest, k);
  const pred = new ForestPredictor(forest);
  let sink = 0;
  const singleMs = time(() => {
    for (const r of rows) sink += pred.predictProba(r);
  }, 5);
  const batchMs = time(() => {
    sink += pred.predictProbaBatch(matrix)[0]!;
  }, 5);
  const explainMs = time(() => {
    for (let i = 0; i < Math.min(1000, nRows); i++) sink += pred.explain(rows[i]!, 5).prediction;
  }, 3);
  const us = (ms: number, n: number): number => +((ms * 1000) / n).toFixed(2);
  const nExplain = Math.min(1000, nRows);
  process.stdout.write(
    JSON.stringify({
      trees: k,
      nodes: forest.feature.length,
      maxDepth: 12,
      singleUsPerRow: us(singleMs[0], nRows),
      singleCpuUsPerRow: us(singleMs[1], nRows),
      batchUsPerRow: us(batchMs[0], nRows),
      batchCpuUsPerRow: us(batchMs[1], nRows),
      contributionsUsPerRow: us(explainMs[0], nExplain),
      contributionsCpuUsPerRow: us(explainMs[1], nExplain),
      load: +loadavg()[0]!.toFixed(1),
      check: sink > 0,
    }) + '\n',
  );
}
