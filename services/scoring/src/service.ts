import type { Bus, Subscription } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createMetricsRegistry, Readiness, type Logger, type RunnableService } from '@ehr/runtime';
import { buildApp } from './app.js';
import type { ScoringConfig } from './config.js';
import { createScoringProcessor } from './processor.js';

export interface ScoringServiceDeps {
  config: Pick<ScoringConfig, 'SCORING_GROUP_ID' | 'KAFKA_TOPIC_PARTITIONS'>;
  logger: Logger;
  bus: Bus;
}

/** Wires the feature service from its dependencies; `main.ts` (or `npm start`) runs it. */
export function createScoringService({ config, logger, bus }: ScoringServiceDeps): RunnableService & { readiness: Readiness } {
  const metrics = createMetricsRegistry('scoring');
  const readiness = new Readiness('scoring').register('bus', () => bus.status());
  const setConsumer = readiness.track('consumer', { state: 'down', detail: 'not started' });
  const app = buildApp({ logger, metrics, readiness });
  const processor = createScoringProcessor({ bus, logger, metrics });
  let subscription: Subscription | null = null;

  return {
    app,
    readiness,
    async start() {
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      await bus.ensureTopics([{ topic: TOPICS.features, partitions }, { topic: TOPICS.scores, partitions }, { topic: TOPICS.deadLetter, partitions }]);
      subscription = await bus.subscribe({ groupId: config.SCORING_GROUP_ID, topics: [TOPICS.features], handler: (batch) => processor.handle(batch) });
      setConsumer({ state: 'up', detail: `group ${config.SCORING_GROUP_ID}` });
    },
    async stop() {
      setConsumer({ state: 'down', detail: 'stopping' });
      await subscription?.stop();
      await bus.close();
    },
  };
}
