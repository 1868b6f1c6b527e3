import type {} from '@ehr/kafka-local/vitest';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';

const brokers = inject('kafkaBrokers');
const kafka = new Kafka({ clientId: 'kafka-local-roundtrip', brokers: [brokers], logLevel: logLevel.WARN });
const admin = kafka.admin();
afterAll(() => admin.disconnect());

describe('the shared test broker', () => {
  it('is provided to tests and in the environment', () => {
    expect(brokers).toMatch(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/);
    expect(process.env.KAFKA_BROKERS).toBe(brokers);
  });

  it('round-trips keyed messages through an auto-created topic, in order per key', async () => {
    const topic = `kafka-local-roundtrip-${Date.now()}`;
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 7}`, value: `m${i}` }));
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]!.partitions).toHaveLength(3); // num.partitions

    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    const received: { key: string; value: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({ key: message.key!.toString(), value: message.value!.toString() });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await done;
    await consumer.disconnect();

    expect([...received].sort((a, b) => a.value.localeCompare(b.value))).toEqual(
      [...sent].sort((a, b) => a.value.localeCompare(b.value)),
    );
    for (const key of new Set(sent.map((m) => m.key))) {
      expect(received.filter((m) => m.key === key)).toEqual(sent.filter((m) => m.key === key));
    }
  });
});
