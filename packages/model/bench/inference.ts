// Inference speed: single-row predictProba, batch, and contributions (top-5), for the
// first 100 and all 200 trees of one forest (tree t depends only on seed and t, so the
// first 100 trees are exactly a 100-tree forest).
//
//   tsx bench/inference.ts --train train.csv --test test.csv [--trees 200] [--depth 12] [--min-leaf 5] [--rows 5000]
import { performance } from 'node:perf_hooks';
import { firstTrees, ForestPredictor, readTrainingCsv, trainForest } from '../src/index.js';

function num(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
function str(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1]!;
}

const train = await readTrainingCsv(str('train'));
const test = await readTrainingCsv(str('test'));
const nTrees = num('trees', 200);
const trained = await trainForest(train.X, train.y, { nTrees, maxDepth: num('depth', 12), minSamplesLeaf: num('min-leaf', 5), maxFeatures: 'sqrt', seed: num('seed', 0) });
const nRows = Math.min(num('rows', 5000), test.X.rows);
const nF = test.X.cols;
const rows: Float64Array[] = Array.from({ length: nRows }, (_, i) => test.X.data.slice(i * nF, (i + 1) * nF));
const matrix = test.X.data.subarray(0, nRows * nF);

function time(fn: () => void, reps: number): number {
  fn(); // warm up
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
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
  process.stdout.write(
    JSON.stringify({
      trees: k,
      nodes: forest.feature.length,
      maxDepth: 12,
      singleUsPerRow: +((singleMs * 1000) / nRows).toFixed(2),
      batchUsPerRow: +((batchMs * 1000) / nRows).toFixed(2),
      contributionsUsPerRow: +((explainMs * 1000) / Math.min(1000, nRows)).toFixed(2),
      check: sink > 0,
    }) + '\n',
  );
}
