import type { Bus, RecordBatch } from '@ehr/bus';
import { decodeFeatureVector, TOPICS, triage } from '@ehr/features';
import { Counter, type Logger, type Registry } from '@ehr/runtime';

export interface ScoringProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
}

/** Feature vectors in: validated, and rejected ones dead-lettered with the reason and the bytes. */
export function createScoringProcessor({ bus, logger, metrics }: ScoringProcessorDeps) {
  const events = new Counter({ name: 'ehr_scoring_events_total', help: 'feature vectors consumed', registers: [metrics] });
  const deadLetters = new Counter({
    name: 'ehr_scoring_dead_letters_total',
    help: 'feature vectors rejected, by reason',
    labelNames: ['reason'],
    registers: [metrics],
  });

  return {
    async handle(batch: RecordBatch): Promise<void> {
      events.inc(batch.records.length);
      const { rejected } = triage(batch.records, decodeFeatureVector, 'scoring');
      if (rejected.length === 0) return;
      for (const d of rejected) deadLetters.inc({ reason: d.reason });
      logger.warn({ count: rejected.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered feature vectors');
      await bus.produce(TOPICS.deadLetter, rejected.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
    },
  };
}
