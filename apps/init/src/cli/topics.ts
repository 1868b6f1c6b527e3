// One-shot: every topic of @ehr/features on KAFKA_BROKERS (compose's `topics` step).
import { createLogger } from '@ehr/runtime';
import { ALL_TOPICS } from '@ehr/features';
import { createPipelineTopics } from '../topics.js';

const logger = createLogger({ service: 'topics', level: process.env.LOG_LEVEL ?? 'info' });
try {
  await createPipelineTopics(process.env);
  logger.info({ topics: ALL_TOPICS }, 'topics ready');
} catch (err) {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not create the topics');
  process.exitCode = 1;
}
