import type { Bus, RecordBatch } from '@ehr/bus';
import { decodeSeverityScore, TOPICS, triage } from '@ehr/features';
import { Counter, type Logger, type Registry } from '@ehr/runtime';

export interface SinkProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
}

/** Severity scores in: validated, and rejected ones dead-lettered with the reason and the bytes. */
export function createSinkProcessor({ bus, logger, metrics }: SinkProcessorDeps) {
  const events = new Counter({ name: 'ehr_sink_events_total', help: 'severity scores consumed', registers: [metrics] });
  const deadLetters = new Counter({
    name: 'ehr_sink_dead_letters_total',
    help: 'severity scores rejected, by reason',
    labelNames: ['reason'],
    registers: [metrics],
  });

  return {
    async handle(batch: RecordBatch): Promise<void> {
      events.inc(batch.records.length);
      const { rejected } = triage(batch.records, decodeSeverityScore, 'sink');
      if (rejected.length === 0) return;
      for (const d of rejected) deadLetters.inc({ reason: d.reason });
      logger.warn({ count: rejected.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered severity scores');
      await bus.produce(TOPICS.deadLetter, rejected.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
    },
  };
}
