import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { COMPACTED_TOPIC_CONFIG, KafkaBus } from '../../src/index.js';

const logger = createLogger({ service: 'bus-test', level: 'silent' });
const prefix = `compacted-test-${process.pid}.`;

// A changelog created with cleanup.policy=compact alone rolls its segments at Kafka's 1 GiB
// or 7 days, and nothing is compacted before that: a restart read the whole log
// (bench/changelog.ts). The bus creates its compacted topics with segments that roll.
describe('topics the kafka bus creates', () => {
  const brokers = inject('kafkaBrokers').split(',');
  const bus = new KafkaBus({ brokers, clientId: 'compacted-test', logger, topicPrefix: prefix });
  const admin = new Kafka({ brokers, clientId: 'compacted-test-admin', logLevel: logLevel.NOTHING }).admin();
  afterAll(async () => {
    await admin.disconnect();
    await bus.close();
  });

  it('gives a compacted topic segments that roll (so the cleaner compacts them), and leaves a plain topic at the broker defaults', async () => {
    await bus.connect();
    await admin.connect();
    await bus.ensureTopics([
      { topic: 'state', partitions: 2, compacted: true },
      { topic: 'events', partitions: 2 },
    ]);
    const names = ['cleanup.policy', 'segment.bytes', 'segment.ms'];
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: ['state', 'events'].map((t) => ({ type: ConfigResourceTypes.TOPIC, name: `${prefix}${t}`, configNames: names })),
    });
    const configOf = (topic: string) =>
      Object.fromEntries(described.resources.find((r) => r.resourceName === `${prefix}${topic}`)!.configEntries.map((e) => [e.configName, e.configValue]));
    expect(configOf('state')).toEqual({ 'cleanup.policy': 'compact', 'segment.bytes': String(16 * 1024 * 1024), 'segment.ms': String(3_600_000) });
    expect(configOf('state')).toEqual(COMPACTED_TOPIC_CONFIG);
    expect(configOf('events')).toEqual({ 'cleanup.policy': 'delete', 'segment.bytes': String(1024 * 1024 * 1024), 'segment.ms': String(7 * 24 * 3_600_000) });
  });
});
