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
import { parseArgs } from 'node:util';
import { auprc, auroc, ForestPredictor, trainForest, type MaxFeatures } from '@ehr/model';
import { buildBenchSet, writeBenchSet } from '../bench-set.js';

const USAGE = 'usage: npm run bench:train -- --rows <n> --out <dir> [--features <n>] [--seed 7] [--trees 200] [--depth 12] [--max-features sqrt] [--min-leaf 5] [--workers 2]';
const log = (text: string) => void process.stderr.write(`${text}\n`);

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      rows: { type: 'string' },
      out: { type: 'string' },
      features: { type: 'string' },
      seed: { type: 'string' },
      trees: { type: 'string' },
      depth: { type: 'string' },
      'max-features': { type: 'string' },
      'min-leaf': { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!v.rows || !v.out) throw new Error('--rows and --out are required');
  const rows = positive('rows', v.rows, 0);
  const out = resolve(v.out);
  const seed = v.seed === undefined ? 7 : Number(v.seed);
  const mf = v['max-features'] ?? 'sqrt';
  const maxFeatures: MaxFeatures = mf === 'sqrt' || mf === 'log2' || mf === 'all' ? mf : Number(mf);

  const t0 = performance.now();
  const set = await buildBenchSet({ rows, seed, ...(v.features ? { features: positive('features', v.features, 0) } : {}) });
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
      nTrees: positive('trees', v.trees, 200),
      maxDepth: positive('depth', v.depth, 12),
      maxFeatures,
      minSamplesLeaf: positive('min-leaf', v['min-leaf'], 5),
      seed,
      featureNames: set.featureNames,
      ...(v.workers ? { workers: positive('workers', v.workers, 2) } : {}),
    },
  );
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
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:train: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(1);
});
