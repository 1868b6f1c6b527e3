import type { Bus } from '@ehr/bus';
import { TOPICS, type RawEvent } from '@ehr/features';
import { Counter, type Registry } from '@ehr/runtime';

/** Publishes raw events keyed by patient, so each patient's events stay in order. */
export function createEventPublisher(bus: Bus, metrics: Registry) {
  const published = new Counter({
    name: 'ehr_producer_events_published_total',
    help: 'raw events published, by source',
    labelNames: ['source'],
    registers: [metrics],
  });
  return {
    async publish(events: readonly RawEvent[]): Promise<void> {
      if (events.length === 0) return;
      await bus.produce(
        TOPICS.events,
        events.map((e) => ({ key: e.patientId, value: JSON.stringify(e) })),
      );
      for (const e of events) published.inc({ source: e.source });
    },
  };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
