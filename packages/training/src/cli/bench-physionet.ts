#!/usr/bin/env node
// npm run bench:physionet -w @ehr/training -- [--data <path>] [--stays <n>] [--out bench-results/physionet]
// Featurizes PhysioNet stays with the feature service's engine and trains the real-data
// forest, timing each stage (wall and CPU seconds, with the load average: the machine is
// shared), then prints one JSON line. All 18,000 stays by default.
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createCommand, integer, main } from '@ehr/cli';
import { commandProgress } from '../cli-progress.js';
import { resolvePhysioNetArg, PHYSIONET_DEFAULT_ARG } from '../physionet-path.js';
import { loadPhysioNetDataset } from '../physionet-data.js';
import { trainOnPhysioNet } from '../physionet-train.js';

const round = (x: number) => Math.round(x * 100) / 100;

const program = createCommand('bench:physionet', 'Featurizes PhysioNet stays with the feature service\'s engine and trains the real-data forest, timing each stage (wall and CPU seconds, with the load average), then prints one JSON line.')
  .usage('[options]   (npm run bench:physionet -w @ehr/training -- …)')
  .option('--data <path>', 'PhysioNet data (default PHYSIONET_PATH, else ../shared/data/physionet-2019-sepsis/)')
  .option('--stays <n>', 'a seeded subset of this many stays, drawn inside the full data\'s seed-1 split (default all)', integer({ min: 1 }))
  .option('--out <dir>', 'model, report and evaluation JSON', 'bench-results/physionet')
  .option('--seed <n>', 'subset, split and forest seed', integer({ min: 0, max: 4_294_967_295 }), 1)
  .option('--trees <n>', 'trees (default 500)', integer({ min: 1 }));

await main(program, async (p) => {
  const v = p.opts<{ data?: string; stays?: number; out: string; seed: number; trees?: number }>();
  // Run by npm in the package directory: the shared data is found from the repository root.
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const path = resolvePhysioNetArg(v.data ?? PHYSIONET_DEFAULT_ARG, process.env, root);
  const { out, seed } = v;
  const progress = commandProgress();
  const cpu = () => process.cpuUsage();
  const secs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
  const load0 = loadavg()[0]!;
  let c0 = cpu();
  let t0 = performance.now();
  progress.stage('reading and featurizing');
  const dataset = await loadPhysioNetDataset(path, { seed, ...(v.stays !== undefined ? { stays: v.stays } : {}), onProgress: progress.stays });
  progress.done();
  const featurize = { wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: secs(process.cpuUsage(c0)), readSeconds: dataset.stats.readSeconds, featureSeconds: dataset.stats.featureSeconds };
  c0 = cpu();
  t0 = performance.now();
  const r = await trainOnPhysioNet({ path, dataset, out: join(out, 'model.json'), report: join(out, 'report.html'), json: join(out, 'evaluation.json'), seed, bootstrap: 200, progress, ...(v.trees ? { forest: { nTrees: v.trees } } : {}) }).finally(() => progress.done());
  const train = r.timings.find((t) => t.label.startsWith('forest'))!;
  const result = {
    model: r.artifact.version,
    stays: dataset.patients.length,
    rows: dataset.rows,
    features: dataset.cols,
    events: dataset.stats.events,
    featurize: { ...featurize, wallSeconds: round(featurize.wallSeconds), cpuSeconds: round(featurize.cpuSeconds), readSeconds: round(featurize.readSeconds), featureSeconds: round(featurize.featureSeconds) },
    train: { forestSeconds: round(train.seconds), trees: r.artifact.hyperparameters.nTrees, trainRows: r.splits[0]!.rows, pipelineWallSeconds: round((performance.now() - t0) / 1000), pipelineCpuSeconds: round(secs(process.cpuUsage(c0))) },
    test: { hourlyAuroc: r.evaluation.hourly.model.auroc, news2HourlyAuroc: r.evaluation.hourly.news2.auroc, utility: r.evaluation.alarms[0]?.utility ?? null },
    peakRssGiB: round(process.resourceUsage().maxRSS / 1024 / 1024),
    cores: cpus().length,
    loadAverage: { start: round(load0), end: round(loadavg()[0]!) },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
});

