// What a service's start-up restore reads from a compacted state changelog after a long run,
// by the topic's segment settings. Kafka compacts only rolled segments, and a segment rolls at
// segment.bytes (broker default 1 GiB) or segment.ms (7 days): with `cleanup.policy=compact`
// alone, a changelog written at 2,000 events/s (the feature service's 120 bytes an event,
// pipeline bench) keeps every record of its first hours uncompacted, and a restart reads them
// all before it is ready (FEATURE_RESTORE_TIMEOUT_MS, 120 s by default).
//
// For each setting: a topic of 3 partitions, BENCH_KEYS patients' states written BENCH_ROUNDS
// times (BENCH_VALUE_BYTES each, random, so compression does not hide the size), then a wait
// until the log cleaner has settled (the topic's bytes on disk unchanged for 20 s), then
// `restoreChangelog` as the services run it: seconds, and bytes on disk it had to read.
//
//   npm run bench:changelog -w @ehr/bus   (needs the Kafka jars: npm run kafka:jars)
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startKafkaBroker } from '@ehr/kafka-local';
import { createLogger } from '@ehr/runtime';
import { Kafka } from 'kafkajs';
import { COMPACTED_TOPIC_CONFIG, KafkaBus, restoreChangelog, type OutgoingRecord } from '../src/index.js';

const KEYS = Number(process.env.BENCH_KEYS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 1_000);
const PARTITIONS = 3;
const SETTLE_MS = 20_000;
const SETTLE_MAX_MS = 240_000;

const say = (line: string) => process.stdout.write(`changelog bench: ${line}\n`);
const logger = createLogger({ service: 'changelog-bench', level: 'warn' });

/** Every setting compared: Kafka's defaults for a compacted topic (what the services created before), and the bus's own. */
const SETTINGS: { name: string; config: Record<string, string> }[] = [
  { name: 'cleanup.policy=compact only', config: { 'cleanup.policy': 'compact' } },
  { name: 'segment.bytes 64 MiB', config: { ...COMPACTED_TOPIC_CONFIG, 'segment.bytes': String(64 * 1024 * 1024) } },
  { name: 'the bus default', config: { ...COMPACTED_TOPIC_CONFIG } },
];

const broker = await startKafkaBroker({ heapMb: 768 });
const topicBytes = (topic: string) => {
  let bytes = 0;
  for (const entry of readdirSync(join(broker.dataDir, 'kraft'))) {
    if (!entry.startsWith(`${topic}-`)) continue;
    for (const file of readdirSync(join(broker.dataDir, 'kraft', entry))) if (file.endsWith('.log')) bytes += statSync(join(broker.dataDir, 'kraft', entry, file)).size;
  }
  return bytes;
};
const mib = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));

const results: Record<string, unknown>[] = [];
try {
  const bus = new KafkaBus({ brokers: [broker.brokers], clientId: 'changelog-bench', logger });
  await bus.connect();
  const admin = new Kafka({ brokers: [broker.brokers], clientId: 'changelog-bench-admin', logLevel: 0 }).admin();
  await admin.connect();
  for (const [i, setting] of SETTINGS.entries()) {
    const topic = `bench.changelog.${i}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries: Object.entries(setting.config).map(([name, value]) => ({ name, value })) }] });
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (let from = 0; from < KEYS; from += 500) {
        const records: OutgoingRecord[] = [];
        for (let k = from; k < Math.min(KEYS, from + 500); k++) records.push({ key: `patient-${k}`, value: randomBytes(VALUE_BYTES) });
        await bus.produce(topic, records);
      }
    }
    const written = KEYS * ROUNDS * VALUE_BYTES;
    say(`${setting.name}: wrote ${mib(written)} MiB (${mib(topicBytes(topic))} MiB on disk by then) in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the log cleaner`);
    // The cleaner runs every 15 s (log.cleaner.backoff.ms): wait until the bytes stop changing.
    let last = topicBytes(topic);
    let stableSince = Date.now();
    const waitStarted = Date.now();
    while (Date.now() - stableSince < SETTLE_MS && Date.now() - waitStarted < SETTLE_MAX_MS) {
      await new Promise((r) => setTimeout(r, 1_000));
      const now = topicBytes(topic);
      if (now !== last) [last, stableSince] = [now, Date.now()];
    }
    const onDisk = topicBytes(topic);
    const restoreStarted = performance.now();
    const latest = await restoreChangelog({ bus, topic, partitions: PARTITIONS, markerPrefix: '__marker.', groupPrefix: `bench-${i}`, timeoutMs: 600_000, what: 'bench state' });
    const restoreSeconds = (performance.now() - restoreStarted) / 1000;
    const row = { setting: setting.name, config: setting.config, writtenMiB: mib(written), liveMiB: mib(KEYS * VALUE_BYTES), onDiskAtRestartMiB: mib(onDisk), restoreSeconds: Number(restoreSeconds.toFixed(1)), restoredKeys: latest.size };
    say(`${setting.name}: ${row.onDiskAtRestartMiB} MiB on disk at the restart (live state ${row.liveMiB} MiB); restore ${row.restoreSeconds} s, ${latest.size} keys`);
    results.push(row);
  }
  await admin.disconnect();
  await bus.close();
} finally {
  await broker.stop();
}
process.stdout.write(`${JSON.stringify({ keys: KEYS, rounds: ROUNDS, valueBytes: VALUE_BYTES, partitions: PARTITIONS, kafka: broker.kafkaVersion, results })}\n`);
