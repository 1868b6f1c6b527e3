import type { Bus } from '@ehr/bus';
import { buildDeadLetter, futureEventProblem, TOPICS, type DeadLetter, type RawEvent } from '@ehr/features';
import { Counter, type Registry } from '@ehr/runtime';
import type { IntakeClock } from './event-checks.js';

/** Publishes raw events keyed by patient, so each patient's events stay in order. */
export function createEventPublisher(bus: Bus, metrics: Registry) {
  const published = new Counter({
    name: 'ehr_producer_events_published_total',
    help: 'raw events published, by source',
    labelNames: ['source'],
    registers: [metrics],
  });
  const refused = new Counter({ name: 'ehr_producer_dead_letters_total', help: 'streamed events and source rows dead-lettered by the producer, by reason', labelNames: ['reason'], registers: [metrics] });
  const publisher = {
    async publish(events: readonly RawEvent[]): Promise<void> {
      if (events.length === 0) return;
      await bus.produce(
        TOPICS.events,
        events.map((e) => ({ key: e.patientId, value: JSON.stringify(e) })),
      );
      for (const e of events) published.inc({ source: e.source });
    },

    /**
     * For the streamed sources (no client to answer): an event dated too far ahead of the
     * wall clock is dead-lettered as future_event instead of published.
     */
    async publishChecked(events: readonly RawEvent[], clock: IntakeClock): Promise<void> {
      const ok: RawEvent[] = [];
      const letters: DeadLetter[] = [];
      for (const e of events) {
        const future = futureEventProblem(e.occurredAt, clock.now(), clock.maxFutureSkewMs);
        if (!future) ok.push(e);
        else {
          const message = { topic: `producer:${e.source}`, partition: null, offset: null, key: e.patientId, value: Buffer.from(JSON.stringify(e)) };
          letters.push(buildDeadLetter(message, { service: 'producer', ...future, patientId: e.patientId, originalEventId: e.eventId }));
        }
      }
      await publisher.deadLetter(letters);
      await publisher.publish(ok);
    },

    /** Dead letters the producer writes for what its streamed sources refuse (a CSV row it cannot read), counted by reason. */
    async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
      if (letters.length === 0) return;
      await bus.produce(TOPICS.deadLetter, letters.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
      for (const d of letters) refused.inc({ reason: d.reason });
    },
  };
  return publisher;
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
