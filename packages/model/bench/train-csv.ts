// Train on a CSV, score a test CSV: the benchmark (and comparison) entry point.
//
//   npm run bench:train-csv -w @ehr/model -- --train train.csv --test test.csv \
//     [--trees 200] [--depth 12] [--max-features sqrt] [--min-leaf 5] [--min-split 2]
//     [--seed 0] [--workers 2] [--class-weight balanced] [--max-bins 255] [--artifact model.json]
//
// CSV: header row, numeric features, last column `label`, empty cell = missing.
// Writes predictions.csv (one raw forest probability per test row) beside the test CSV and
// prints, as its very last line, {"rows","features","trees","trainSeconds","auroc","auprc"}.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  auprc,
  auroc,
  ForestPredictor,
  readTrainingCsv,
  trainForest,
  trainSeverityModel,
  saveModelArtifact,
  type ForestOptions,
  type MaxFeatures,
} from '../src/index.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}
function num(name: string, fallback: number): number {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name}: '${v}' is not a number`);
  return n;
}

const trainPath = flag('train');
const testPath = flag('test');
if (!trainPath || !testPath) {
  process.stderr.write('usage: train-csv --train <csv> --test <csv> [--trees 200] [--depth 12] [--max-features sqrt] [--min-leaf 5] [--seed 0] [--workers N]\n');
  process.exit(2);
}
const mfFlag = flag('max-features') ?? 'sqrt';
const maxFeatures: MaxFeatures = mfFlag === 'sqrt' || mfFlag === 'log2' || mfFlag === 'all' ? mfFlag : Number(mfFlag);
const cwFlag = flag('class-weight');
const options: ForestOptions = {
  nTrees: num('trees', 200),
  maxDepth: num('depth', 12),
  maxFeatures,
  minSamplesLeaf: num('min-leaf', 5),
  minSamplesSplit: num('min-split', 2),
  maxBins: num('max-bins', 255),
  seed: num('seed', 0),
  classWeight: cwFlag === 'balanced' ? 'balanced' : null,
};
if (flag('workers') !== undefined) options.workers = num('workers', 2);

const t0 = performance.now();
const train = await readTrainingCsv(trainPath);
const test = await readTrainingCsv(testPath);
process.stderr.write(`read ${train.X.rows}+${test.X.rows} rows × ${train.X.cols} features in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
if (test.X.cols !== train.X.cols) throw new Error(`test has ${test.X.cols} features, train has ${train.X.cols}`);

const start = performance.now();
const cpu0 = process.cpuUsage();
const trained = await trainForest(train.X, train.y, { ...options, featureNames: train.featureNames });
const trainSeconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0); // all threads of the process, workers included

const predictor = new ForestPredictor(trained.forest);
const p0 = performance.now();
const proba = predictor.predictProbaBatch(test.X.data);
const predictMs = performance.now() - p0;
writeFileSync(join(dirname(testPath), 'predictions.csv'), Array.from(proba, (p) => String(p)).join('\n') + '\n');
process.stderr.write(
  `trained ${trained.forest.nTrees} trees (${trained.forest.feature.length} nodes) in ${trainSeconds.toFixed(2)} s ` +
    `(CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, load ${loadavg()[0]!.toFixed(1)}); ` +
    `predicted ${test.X.rows} rows in ${predictMs.toFixed(0)} ms (${((predictMs * 1000) / test.X.rows).toFixed(2)} µs/row)\n`,
);

const artifactPath = flag('artifact');
if (artifactPath) {
  const model = await trainSeverityModel({ X: train.X, y: train.y, featureNames: train.featureNames, forest: options, name: 'bench' });
  await saveModelArtifact(artifactPath, model.artifact);
  process.stderr.write(`artifact ${artifactPath} version ${model.version}\n`);
}

process.stdout.write(
  JSON.stringify({
    rows: train.X.rows,
    features: train.X.cols,
    trees: trained.forest.nTrees,
    trainSeconds: Math.round(trainSeconds * 1000) / 1000,
    auroc: Math.round(auroc(test.y, proba) * 10000) / 10000,
    auprc: Math.round(auprc(test.y, proba) * 10000) / 10000,
  }) + '\n',
);
