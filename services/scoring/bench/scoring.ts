// Scoring benchmark: model inference per event (100 and 200 trees of depth 12, with and
// without the explanation), and, when KAFKA_BROKERS is set, scores/s through the service
// on real Kafka with p50/p99 latency. Writes bench-results/scoring.json.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, KafkaBus } from '@ehr/bus';
import { createRandom, decodeSeverityScore, FEATURE_NAMES, FEATURE_SET_VERSION, TOPICS } from '@ehr/features';
import { saveModelArtifact, trainSeverityModel, type SeverityModel } from '@ehr/model';
import { createLogger } from '@ehr/runtime';
import { createScoringService, loadConfig } from '../src/index.js';
import { syntheticFeatures, vectorEvent } from '../test/fixtures.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function dataset(rows: number, seed: number) {
  const rng = createRandom(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < rows; i++) {
    const severe = rng.chance(0.2);
    const f = syntheticFeatures(seed * 7 + i, severe);
    X.push(FEATURE_NAMES.map((n) => f[n] ?? NaN));
    y.push(severe ? 1 : 0);
  }
  return { X, y };
}

async function train(trees: number): Promise<SeverityModel> {
  const { X, y } = dataset(20_000, 3);
  const t0 = performance.now();
  const { model } = await trainSeverityModel({
    X,
    y,
    name: `bench-${trees}`,
    featureSchemaVersion: FEATURE_SET_VERSION,
    featureNames: FEATURE_NAMES,
    seed: 1,
    forest: { nTrees: trees, maxDepth: 12, minSamplesLeaf: 5, maxFeatures: 'sqrt', seed: 1 },
  });
  out(`trained ${trees} trees × depth 12 on 20,000 × ${FEATURE_NAMES.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return model;
}

function timeInference(model: SeverityModel) {
  const { X } = dataset(20_000, 9);
  const rows = X.map((r) => Float64Array.from(r));
  const measure = (fn: (row: Float64Array) => unknown) => {
    for (let i = 0; i < 2_000; i++) fn(rows[i]!); // warm up the JIT
    const t0 = process.hrtime.bigint();
    for (const row of rows) fn(row);
    return Number(process.hrtime.bigint() - t0) / 1000 / rows.length;
  };
  return {
    predictMicros: measure((row) => model.predictProba(row)),
    scoreWithTop5Micros: measure((row) => model.score(row, 5)),
  };
}

async function throughOnKafka(brokers: string, modelPath: string) {
  const logger = createLogger({ service: 'scoring-bench', level: 'error' });
  const prefix = `bench-scoring-${Date.now()}.`;
  const env = { KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '6', MODEL_PATH: modelPath, MODEL_WATCH: 'false' };
  const client = new KafkaBus({ brokers: brokers.split(','), clientId: 'scoring-bench', logger, topicPrefix: prefix });
  await client.connect();
  await client.ensureTopics([{ topic: TOPICS.features, partitions: 6 }, { topic: TOPICS.scores, partitions: 6 }]);
  const n = 20_000;
  const vectors = Array.from({ length: n }, (_, i) => vectorEvent(`patient-${i % 1000}`, syntheticFeatures(i, i % 5 === 0)));
  const latencies: number[] = [];
  let first = 0;
  let last = 0;
  await client.subscribe({
    groupId: `bench-${Date.now()}`,
    topics: [TOPICS.scores],
    handler: async ({ records }) => {
      for (const r of records) {
        const s = decodeSeverityScore(r.value);
        if (s.ok) latencies.push(s.value.payload.latencyMs);
      }
      last = Date.now();
    },
  });
  const config = loadConfig(env);
  const service = createScoringService({ config, logger, bus: createBus(config, { clientId: 'scoring-service', logger }) });
  await service.start();
  // Paced input (2,000 vectors/s) gives the latency of a service keeping up; the
  // throughput run below pushes everything at once.
  first = Date.now();
  for (let i = 0; i < n; i += 200) {
    await client.produce(TOPICS.features, vectors.slice(i, i + 200).map((v) => ({ key: v.patientId, value: JSON.stringify({ ...v, producedAt: new Date().toISOString() }) })));
    await new Promise((r) => setTimeout(r, 100));
  }
  while (latencies.length < n) await new Promise((r) => setTimeout(r, 50));
  const paced = [...latencies].sort((a, b) => a - b);
  latencies.length = 0;
  const burst = Array.from({ length: n }, (_, i) => vectorEvent(`patient-${i % 1000}`, syntheticFeatures(n + i, i % 5 === 0)));
  first = Date.now();
  await client.produce(TOPICS.features, burst.map((v) => ({ key: v.patientId, value: JSON.stringify(v) })));
  while (latencies.length < n) await new Promise((r) => setTimeout(r, 50));
  const seconds = (last - first) / 1000;
  await service.stop();
  await service.app.close();
  await client.close();
  return {
    vectors: n,
    scoresPerSecond: Math.round(n / seconds),
    pacedLatencyMs: { p50: quantile(paced, 0.5), p99: quantile(paced, 0.99), rate: 2000 },
  };
}

const result: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, features: FEATURE_NAMES.length };
const dir = mkdtempSync(join(tmpdir(), 'scoring-bench-'));
for (const trees of [100, 200]) {
  const model = await train(trees);
  const timing = timeInference(model);
  out(`${trees} trees: predict ${timing.predictMicros.toFixed(2)} µs/event, predict + top-5 contributions ${timing.scoreWithTop5Micros.toFixed(2)} µs/event`);
  result[`trees${trees}`] = timing;
  if (trees === 200) await saveModelArtifact(join(dir, 'model.json'), model.artifact);
}
if (process.env.KAFKA_BROKERS) {
  const kafka = await throughOnKafka(process.env.KAFKA_BROKERS, join(dir, 'model.json'));
  out(`service on real Kafka (200 trees): ${kafka.scoresPerSecond} scores/s; at 2,000 vectors/s latency p50 ${kafka.pacedLatencyMs.p50} ms, p99 ${kafka.pacedLatencyMs.p99} ms`);
  result.kafka = kafka;
} else {
  out('KAFKA_BROKERS unset: skipping the service-on-Kafka part');
}
mkdirSync('bench-results', { recursive: true });
writeFileSync(join('bench-results', 'scoring.json'), JSON.stringify(result, null, 2));
