// A cohort through a real broker: the producer publishes it, a consumer receives every
// event, keyed by patient, each patient's events in event-time order.
import { KafkaBus } from '@ehr/bus';
import { generateCohort } from '@ehr/cohort';
import { TOPICS, type RawEvent } from '@ehr/features';
import type {} from '@ehr/kafka-local/vitest';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEventPublisher, streamEvents } from '../../src/index.js';

const logger = createLogger({ service: 'producer-test', level: 'error' });
const prefix = `producer-${Date.now()}-`;
const buses: KafkaBus[] = [];

afterAll(async () => {
  for (const b of buses) await b.close();
});

async function bus(clientId: string): Promise<KafkaBus> {
  const b = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId, logger, topicPrefix: prefix });
  await b.connect();
  buses.push(b);
  return b;
}

describe('producer → real Kafka', () => {
  it('publishes a cohort; a consumer receives every event, keyed by patient, in event-time order per patient', async () => {
    // No artefacts: delivery order is then event-time order, which is what this checks.
    const cohort = generateCohort({ seed: 21, patients: 25, hours: 36, artefactRate: 0 });
    const sent = cohort.events.map((r) => r.event);
    const producerBus = await bus('producer-test');
    await producerBus.ensureTopics([{ topic: TOPICS.events, partitions: 3 }]);
    const publisher = createEventPublisher(producerBus, createMetricsRegistry('producer-test', { defaultMetrics: false }));
    const result = await streamEvents({ events: sent, pace: { kind: 'max' }, publish: (events) => publisher.publish(events), stampProducedAt: false });
    expect(result.published).toBe(sent.length);

    const consumerBus = await bus('producer-test-consumer');
    const received: { key: string | null; partition: number; event: RawEvent }[] = [];
    const sub = await consumerBus.subscribe({
      groupId: `${prefix}check`,
      topics: [TOPICS.events],
      fromBeginning: true,
      handler: async ({ records, partition }) => void received.push(...records.map((r) => ({ key: r.key, partition, event: JSON.parse(r.value.toString()) as RawEvent }))),
    });
    const deadline = Date.now() + 120_000;
    while (received.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await sub.stop();

    expect(received).toHaveLength(sent.length);
    expect(new Set(received.map((r) => r.event.eventId))).toEqual(new Set(sent.map((e) => e.eventId)));
    const partitionOf = new Map<string, number>();
    const perPatient = new Map<string, RawEvent[]>();
    for (const r of received) {
      expect(r.key).toBe(r.event.patientId);
      // One patient, one partition.
      expect(partitionOf.get(r.key!) ?? r.partition).toBe(r.partition);
      partitionOf.set(r.key!, r.partition);
      perPatient.set(r.key!, [...(perPatient.get(r.key!) ?? []), r.event]);
    }
    expect(perPatient.size).toBe(25);
    for (const [patient, events] of perPatient) {
      const times = events.map((e) => Date.parse(e.occurredAt));
      expect(times.every((t, i) => i === 0 || t >= times[i - 1]!), patient).toBe(true);
      expect(events.map((e) => e.eventId)).toEqual(sent.filter((e) => e.patientId === patient).map((e) => e.eventId));
    }
  });
});
