import type { Bus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createMetricsRegistry, Readiness, type Logger, type RunnableService } from '@ehr/runtime';
import { buildApp } from './app.js';
import type { ProducerConfig } from './config.js';
import { createEventPublisher } from './publisher.js';

export interface ProducerServiceDeps {
  config: Pick<ProducerConfig, 'KAFKA_TOPIC_PARTITIONS' | 'PRODUCER_BODY_LIMIT_BYTES' | 'PRODUCER_MAX_BATCH_EVENTS'>;
  logger: Logger;
  bus: Bus;
}

/** Wires the producer from its dependencies; `main.ts` (or `npm start`) runs it. */
export function createProducerService({ config, logger, bus }: ProducerServiceDeps): RunnableService & { readiness: Readiness } {
  const metrics = createMetricsRegistry('producer');
  const readiness = new Readiness('producer').register('bus', () => bus.status());
  const publisher = createEventPublisher(bus, metrics);
  const app = buildApp({
    logger,
    metrics,
    readiness,
    publisher,
    bodyLimit: config.PRODUCER_BODY_LIMIT_BYTES,
    maxBatchEvents: config.PRODUCER_MAX_BATCH_EVENTS,
  });

  return {
    app,
    readiness,
    async start() {
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      await bus.ensureTopics([{ topic: TOPICS.events, partitions }, { topic: TOPICS.deadLetter, partitions }]);
    },
    async stop() {
      await bus.close();
    },
  };
}
