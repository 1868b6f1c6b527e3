// concurrentPartitions: batches of different partitions in flight at once (Kafka only), each
// partition's own batches still one at a time. Scoring uses it to overlap one partition's
// produce and commit round trips with another's work.
import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { KafkaBus, partitionForKey, type Subscription } from '../../src/index.js';

const logger = createLogger({ service: 'bus-concurrency-test', level: 'silent' });
let counter = 0;
const unique = (what: string) => `concurrency.${what}.${process.pid}.${Date.now()}.${counter++}`;

/** Subscribes, holding each batch until another is in flight (or `holdMs`); returns the most batches seen at once, and per partition. */
async function inFlight(bus: KafkaBus, topic: string, records: number, concurrentPartitions: number | undefined, subs: Subscription[]) {
  let now = 0;
  let most = 0;
  const perPartition = new Map<number, number>();
  let mostInOnePartition = 0;
  let seen = 0;
  subs.push(
    await bus.subscribe({
      groupId: unique('g'),
      topics: [topic],
      ...(concurrentPartitions === undefined ? {} : { concurrentPartitions }),
      handler: async ({ partition, records: batch }) => {
        now++;
        most = Math.max(most, now);
        perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
        mostInOnePartition = Math.max(mostInOnePartition, perPartition.get(partition)!);
        const until = Date.now() + 3_000;
        while (now < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        seen += batch.length;
        perPartition.set(partition, perPartition.get(partition)! - 1);
        now--;
      },
    }),
  );
  const deadline = Date.now() + 60_000;
  while (seen < records && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(seen).toBe(records);
  return { most, mostInOnePartition };
}

describe('kafka bus: concurrentPartitions', () => {
  const open: KafkaBus[] = [];
  const subs: Subscription[] = [];
  afterEach(async () => {
    await Promise.all(subs.splice(0).map((s) => s.stop()));
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it('hands over batches of two partitions at once when asked, one at a time by default', async () => {
    const bus = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId: 'concurrency', logger, topicPrefix: `bus-test-${process.pid}.` });
    await bus.connect();
    open.push(bus);
    const topic = unique('t');
    await bus.ensureTopics([{ topic, partitions: 2 }]);
    // Keys for both partitions, several records each: both are in the first fetch.
    const keys = Array.from({ length: 40 }, (_, i) => `patient-${i}`);
    expect(new Set(keys.map((k) => partitionForKey(k, 2))).size).toBe(2);
    await bus.produce(topic, keys.map((key) => ({ key, value: key })));

    const concurrent = await inFlight(bus, topic, keys.length, 2, subs);
    expect(concurrent.most).toBe(2);
    expect(concurrent.mostInOnePartition).toBe(1);

    const serial = await inFlight(bus, topic, keys.length, undefined, subs);
    expect(serial.most).toBe(1);
  }, 120_000);
});
