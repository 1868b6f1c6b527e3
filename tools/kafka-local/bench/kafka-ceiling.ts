// The raw Kafka ceiling of this machine with plain kafkajs: what the pipeline can never
// beat. Cold start of a fresh broker (format + start until an admin client is served),
// then produce and consume throughput of N × 1 KiB messages.
//   npm run bench -w @ehr/kafka-local          (or the root `npm run bench`)
// BENCH_MESSAGES (200000), BENCH_MESSAGE_BYTES (1024), BENCH_BATCH_SIZE (500) tune it;
// with KAFKA_BROKERS set, throughput is measured on that broker instead of the fresh one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ensureJars, repoRoot, startKafkaBroker } from '../src/index.js';

const env = process.env;
const int = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got '${env[name]}'`);
  return value;
};
const total = int('BENCH_MESSAGES', 200_000);
const messageBytes = int('BENCH_MESSAGE_BYTES', 1024);
const batchSize = int('BENCH_BATCH_SIZE', 500);
const partitions = 3;

const round1 = (x: number) => Math.round(x * 10) / 10;
const rate = (count: number, ms: number) => Math.round((count * 1000) / ms);
const mbPerSec = (count: number, ms: number) => Number(((count * messageBytes) / 1e6 / (ms / 1000)).toFixed(1));

async function main() {
  const jars = ensureJars();
  // Other work on the machine skews every figure: record how busy it was.
  const loadBefore = loadavg()[0]!;

  const coldStarted = performance.now();
  const broker = await startKafkaBroker();
  const coldStart = { totalMs: Math.round(performance.now() - coldStarted), ...broker.timings };

  const external = env.KAFKA_BROKERS?.trim();
  if (external) await broker.stop(); // measure the broker the run was given, not a second one beside it
  const brokers = external || broker.brokers;
  try {
    const kafka = new Kafka({ clientId: 'kafka-ceiling', brokers: brokers.split(','), logLevel: logLevel.ERROR });
    const topic = `bench-kafka-ceiling-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });

    const produce = await measureProduce(kafka, topic);
    const consume = await measureConsume(kafka, topic);

    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    const result = {
      benchmark: 'kafka-ceiling',
      at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryMb: Math.round(totalmem() / 2 ** 20),
        node: process.version,
        loadAverage1m: { before: round1(loadBefore), after: round1(loadavg()[0]!) },
      },
      kafka: { version: jars.kafkaVersion, brokers, external: Boolean(external), client: 'kafkajs 2.2.4' },
      config: { messages: total, messageBytes, batchSize, partitions, acks: -1, idempotent: true, compression: 'none' },
      coldStart,
      produce,
      consume,
    };
    const outDir = join(repoRoot, 'bench-results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'kafka-ceiling.json'), `${JSON.stringify(result, null, 2)}\n`);

    const n = (x: number) => x.toLocaleString('en-US');
    process.stdout.write(
      `kafka ceiling (Kafka ${jars.kafkaVersion}, ${cpus().length} CPUs${external ? `, broker ${brokers}` : ''}): ` +
        `cold start ${(coldStart.totalMs / 1000).toFixed(1)} s | ` +
        `produce ${n(total)} × ${messageBytes} B in batches of ${batchSize}, acks=-1 idempotent: ` +
        `${n(produce.messagesPerSec)} msg/s, ${produce.mbPerSec} MB/s | ` +
        `consume (eachBatch): ${n(consume.messagesPerSec)} msg/s, ${consume.mbPerSec} MB/s ` +
        `(+${(consume.groupJoinMs / 1000).toFixed(1)} s group join)` +
        `${loadBefore > cpus().length ? ` [machine busy: load ${round1(loadBefore)}]` : ''} → bench-results/kafka-ceiling.json\n`,
    );
  } finally {
    await broker.stop();
  }
}

async function measureProduce(kafka: Kafka, topic: string) {
  // Deterministic payload; its content does not matter without compression.
  const value = Buffer.alloc(messageBytes, 'abcdefghijklmnopqrstuvwxyz0123456789');
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const started = performance.now();
  for (let sent = 0; sent < total; sent += batchSize) {
    const count = Math.min(batchSize, total - sent);
    const messages = Array.from({ length: count }, (_, i) => ({ key: `patient-${(sent + i) % 1000}`, value }));
    await producer.send({ topic, acks: -1, messages });
  }
  const ms = performance.now() - started;
  await producer.disconnect();
  return { ms: Math.round(ms), messagesPerSec: rate(total, ms), mbPerSec: mbPerSec(total, ms) };
}

async function measureConsume(kafka: Kafka, topic: string) {
  const consumer = kafka.consumer({ groupId: `${topic}-consumer` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let received = 0;
  let firstBatchAt = 0;
  const started = performance.now();
  const finished = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (firstBatchAt === 0) firstBatchAt = performance.now();
        received += batch.messages.length;
        if (received >= total) resolve(performance.now());
      },
    });
  });
  const doneAt = await finished;
  await consumer.disconnect();
  // Throughput from the first fetched batch on; joining the group is reported apart.
  const ms = doneAt - firstBatchAt;
  return {
    ms: Math.round(ms),
    groupJoinMs: Math.round(firstBatchAt - started),
    messagesPerSec: rate(total, ms),
    mbPerSec: mbPerSec(total, ms),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`kafka ceiling bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
