#!/usr/bin/env node
// npm run bench:train -- --rows <n> --out <dir> [--features <n>] [--seed 7] [--trees 200] [--workers 2]
//
// Builds a training set of <n> rows (and n/4 test rows, other patients) from a generated
// cohort with the real feature code, writes <dir>/train.csv and <dir>/test.csv, trains 200
// trees of depth 12, sqrt features per split, minimum leaf 5, writes <dir>/predictions.csv
// (one probability per test row, same order) and prints as its very last line
// {"rows","features","trees","trainSeconds","auroc","auprc"} on the test set.
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CommandFailure, createCommand, integer, main } from '@ehr/cli';
import { auprc, auroc, ForestPredictor, trainForest, type MaxFeatures } from '@ehr/model';
import { buildBenchSet, writeBenchSet } from '../bench-set.js';
import { maxFeaturesValue } from '../cli-values.js';
import { commandProgress } from '../cli-progress.js';

const log = (text: string) => void process.stderr.write(`${text}\n`);

const program = createCommand(
  'bench:train',
  'Builds a training set of --rows rows (and rows/4 test rows of other patients) from a generated cohort with the real feature code, writes train.csv and test.csv, trains the forest, writes predictions.csv (one probability per test row) and prints as its very last line {"rows","features","trees","trainSeconds","auroc","auprc"} on the test set.',
)
  .usage('--rows <n> --out <dir> [options]   (npm run bench:train -- …)')
  .option('--rows <n>', 'training rows; required', integer({ min: 1, max: 10_000_000 }))
  .option('--out <dir>', 'where the CSVs go; required')
  .option('--features <n>', 'keep the first n feature columns (default all)', integer({ min: 1 }))
  .option('--seed <n>', 'cohort, split and forest seed', integer({ min: 0, max: 4_294_967_295 }), 7)
  .option('--trees <n>', 'trees', integer({ min: 1 }), 200)
  .option('--depth <n>', 'maximum depth', integer({ min: 1 }), 12)
  .option('--max-features <n>', 'features per split: sqrt, log2, all, a fraction or a number', maxFeaturesValue, 'sqrt')
  .option('--min-leaf <n>', 'minimum rows per leaf', integer({ min: 1 }), 5)
  .option('--workers <n>', 'worker threads (default 2)', integer({ min: 1 }));

await main(program, async (p) => {
  const o = p.opts<{ rows?: number; out?: string; features?: number; seed: number; trees: number; depth: number; maxFeatures: MaxFeatures; minLeaf: number; workers?: number }>();
  // Checked here, not by commander, so that an unknown flag is the error named first.
  if (o.rows === undefined || o.out === undefined) throw new CommandFailure(`${o.rows === undefined ? '--rows' : '--out'} is required`, 2);
  const { rows, seed, maxFeatures } = o;
  const out = resolve(o.out);
  const progress = commandProgress();
  const t0 = performance.now();
  progress.stage('building the bench set');
  const set = await buildBenchSet({ rows, seed, ...(o.features ? { features: o.features } : {}), progress: { onEvents: progress.events } });
  progress.done();
  const paths = await writeBenchSet(out, set);
  log(
    `bench set: ${set.train.rows} train rows (${set.train.patients} patients, ${set.train.positives} positive) + ${set.test.rows} test rows ` +
      `(${set.test.patients} other patients, ${set.test.positives} positive) × ${set.featureNames.length} features from a ${set.cohort.patients}-patient cohort ` +
      `(features ${set.featureSeconds.toFixed(1)} s, total with CSVs ${((performance.now() - t0) / 1000).toFixed(1)} s): ${paths.train}, ${paths.test}`,
  );

  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const trained = await trainForest(
    { rows: set.train.rows, cols: set.featureNames.length, data: set.train.X },
    set.train.y,
    {
      nTrees: o.trees,
      maxDepth: o.depth,
      maxFeatures,
      minSamplesLeaf: o.minLeaf,
      seed,
      featureNames: set.featureNames,
      onProgress: progress.trees,
      ...(o.workers ? { workers: o.workers } : {}),
    },
  );
  progress.done();
  const trainSeconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const proba = new ForestPredictor(trained.forest).predictProbaBatch(set.test.X);
  await writeFile(join(out, 'predictions.csv'), Array.from(proba, (p) => String(p)).join('\n') + '\n');
  log(`trained ${trained.forest.nTrees} trees (${trained.forest.feature.length} nodes) in ${trainSeconds.toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, load ${loadavg()[0]!.toFixed(1)})`);
  process.stdout.write(
    JSON.stringify({
      rows: set.train.rows,
      features: set.featureNames.length,
      trees: trained.forest.nTrees,
      trainSeconds: Math.round(trainSeconds * 1000) / 1000,
      auroc: Math.round(auroc(set.test.y, proba) * 10000) / 10000,
      auprc: Math.round(auprc(set.test.y, proba) * 10000) / 10000,
    }) + '\n',
  );
});
