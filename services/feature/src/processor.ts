import type { Bus, RecordBatch } from '@ehr/bus';
import { decodeRawEvent, TOPICS, triage } from '@ehr/features';
import { Counter, type Logger, type Registry } from '@ehr/runtime';

export interface FeatureProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
}

/** Raw events in: validated, and rejected ones dead-lettered with the reason and the bytes. */
export function createFeatureProcessor({ bus, logger, metrics }: FeatureProcessorDeps) {
  const events = new Counter({ name: 'ehr_feature_events_total', help: 'raw events consumed', registers: [metrics] });
  const deadLetters = new Counter({
    name: 'ehr_feature_dead_letters_total',
    help: 'raw events rejected, by reason',
    labelNames: ['reason'],
    registers: [metrics],
  });

  return {
    async handle(batch: RecordBatch): Promise<void> {
      events.inc(batch.records.length);
      const { rejected } = triage(batch.records, decodeRawEvent, 'feature');
      if (rejected.length === 0) return;
      for (const d of rejected) deadLetters.inc({ reason: d.reason });
      logger.warn({ count: rejected.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered raw events');
      await bus.produce(TOPICS.deadLetter, rejected.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
    },
  };
}
