#!/usr/bin/env node
// npm run bench:physionet -w @ehr/training -- [--data <path>] [--stays <n>] [--out bench-results/physionet]
// Featurizes PhysioNet stays with the feature service's engine and trains the real-data
// forest, timing each stage (wall and CPU seconds, with the load average: the machine is
// shared), then prints one JSON line. All 18,000 stays by default.
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { resolvePhysioNetArg, PHYSIONET_DEFAULT_ARG } from '../physionet-path.js';
import { loadPhysioNetDataset } from '../physionet-data.js';
import { trainOnPhysioNet } from '../physionet-train.js';

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { data: { type: 'string' }, stays: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, trees: { type: 'string' } }, strict: true });
  // Run by npm in the package directory: the shared data is found from the repository root.
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const path = resolvePhysioNetArg(v.data ?? PHYSIONET_DEFAULT_ARG, process.env, root);
  const out = v.out ?? 'bench-results/physionet';
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  const cpu = () => process.cpuUsage();
  const secs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
  const load0 = loadavg()[0]!;
  let c0 = cpu();
  let t0 = performance.now();
  const dataset = await loadPhysioNetDataset(path, { seed, ...(v.stays !== undefined ? { stays: Number(v.stays) } : {}) });
  const featurize = { wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: secs(process.cpuUsage(c0)), readSeconds: dataset.stats.readSeconds, featureSeconds: dataset.stats.featureSeconds };
  c0 = cpu();
  t0 = performance.now();
  const r = await trainOnPhysioNet({ path, dataset, out: join(out, 'model.json'), report: join(out, 'report.html'), json: join(out, 'evaluation.json'), seed, bootstrap: 200, ...(v.trees ? { forest: { nTrees: Number(v.trees) } } : {}) });
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
}

const round = (x: number) => Math.round(x * 100) / 100;

main().catch((err: unknown) => {
  process.stderr.write(`bench:physionet: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
