// Scoring's hot path in one process, no Kafka: encoded vector frames (as the feature service
// writes them) through the processor's batch handler, encoded scores out. CPU time, not wall
// time, so that a busy machine changes the figure less: CPU µs per vector, the share of it in
// GC, and bytes produced. Used to choose issue 18's changes to the decode → score → encode path.
//   npm run bench:handle -w @ehr/scoring        MODEL_PATH=… BENCH_VECTORS=20000 BENCH_BATCH=500
import { PerformanceObserver } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { loadavg } from 'node:os';
import { RecordIsolation, type Bus, type BusRecord, type OutgoingRecord } from '@ehr/bus';
import { encodeFeatureVector } from '@ehr/features';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { createDriftMonitor } from '../src/drift.js';
import { ModelHolder } from '../src/model-holder.js';
import { createScoringProcessor } from '../src/processor.js';
import { syntheticFeatures, vectorEvent } from '../test/fixtures.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const modelPath = process.env.MODEL_PATH ?? resolve(import.meta.dirname, '../../../data/model/severity-model.json');
const n = Number(process.env.BENCH_VECTORS ?? 20_000);
const batchSize = Number(process.env.BENCH_BATCH ?? 500);
const passes = Number(process.env.BENCH_PASSES ?? 5);

const logger = createLogger({ service: 'scoring-bench', level: 'error' });
const models = new ModelHolder(modelPath, logger);
await models.reload();
let producedBytes = 0;
let produced = 0;
const bus = {
  async produce(_topic: string, records: OutgoingRecord[]) {
    for (const r of records) producedBytes += r.value.length;
    produced += records.length;
  },
} as unknown as Bus;
const metrics = createMetricsRegistry('scoring-bench');
const processor = createScoringProcessor({
  bus,
  logger,
  metrics,
  models,
  drift: createDriftMonitor(metrics, 1000),
  topK: 5,
  isolation: new RecordIsolation({ maxAttempts: 3, logger, metrics }),
});

const records: BusRecord[] = Array.from({ length: n }, (_, i) => ({
  topic: 'ehr.features.v1',
  partition: 0,
  offset: String(i),
  key: `patient-${i % 1000}`,
  value: encodeFeatureVector(vectorEvent(`patient-${i % 1000}`, syntheticFeatures(i, i % 5 === 0), new Date(Date.now() - 60_000).toISOString())),
  headers: {},
  timestamp: Date.now(),
}));

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

async function pass(): Promise<{ cpuMicros: number; gcMs: number }> {
  const gcBefore = gcMs;
  const before = process.cpuUsage();
  for (let s = 0; s < n; s += batchSize) {
    await processor.handle({ topic: 'ehr.features.v1', partition: 0, records: records.slice(s, s + batchSize), highWatermark: String(n) });
  }
  const used = process.cpuUsage(before);
  // Let the observer see the last GCs of the pass.
  await new Promise((r) => setTimeout(r, 50));
  return { cpuMicros: used.user + used.system, gcMs: gcMs - gcBefore };
}

out(`model ${modelPath}: ${models.current?.name}@${models.current?.version}; ${n} vectors in batches of ${batchSize}; load ${loadavg()[0]!.toFixed(2)}`);
await pass(); // warm-up: the JIT, the model's caches
const results = [];
for (let p = 0; p < passes; p++) results.push(await pass());
const perVector = results.map((r) => r.cpuMicros / n).sort((a, b) => a - b);
const gcShare = results.map((r) => (r.gcMs * 1000) / r.cpuMicros).sort((a, b) => a - b);
out(`CPU per vector: median ${perVector[Math.floor(passes / 2)]!.toFixed(1)} µs (min ${perVector[0]!.toFixed(1)}, max ${perVector.at(-1)!.toFixed(1)}); GC ${(100 * gcShare[Math.floor(passes / 2)]!).toFixed(1)} % of it`);
out(`scores produced ${produced} (${(producedBytes / produced).toFixed(0)} B each before compression); heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB; load ${loadavg()[0]!.toFixed(2)}`);
