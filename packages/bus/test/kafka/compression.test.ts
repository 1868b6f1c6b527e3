import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { afterAll, expect, inject, it } from 'vitest';
import { KafkaBus, type BusRecord } from '../../src/index.js';

const logger = createLogger({ service: 'compression-test', level: 'error' });
const buses: KafkaBus[] = [];
afterAll(async () => Promise.all(buses.map((b) => b.close())));

it('a real broker takes LZ4 batches from the bus and a consumer reads them back whole', async () => {
  const connect = async (clientId: string, compression: 'lz4' | 'none') => {
    const bus = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId, logger, topicPrefix: `lz4-test-${process.pid}.`, compression });
    buses.push(bus);
    await bus.connect();
    return bus;
  };
  const writer = await connect('lz4-writer', 'lz4');
  const reader = await connect('lz4-reader', 'none');
  await writer.ensureTopics([{ topic: 'lz4', partitions: 2 }]);
  const sent = Array.from({ length: 600 }, (_, i) => ({ key: `p${i % 13}`, value: Buffer.from(`record ${i} `.repeat(1 + (i % 40))) }));
  await writer.produce('lz4', sent);
  const got: BusRecord[] = [];
  const sub = await reader.subscribe({ groupId: `lz4-${process.pid}`, topics: ['lz4'], handler: async ({ records }) => void got.push(...records) });
  const deadline = Date.now() + 30_000;
  while (got.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await sub.stop();
  const byValue = (a: { value: Buffer }, b: { value: Buffer }) => Buffer.compare(a.value, b.value);
  expect(got.map((r) => ({ key: r.key, value: r.value })).sort(byValue)).toEqual([...sent].sort(byValue));
});
