// One-shot: every topic of @ehr/features on KAFKA_BROKERS (compose's `topics` step).
import { createCommand, main } from '@ehr/cli';
import { createLogger } from '@ehr/runtime';
import { ALL_TOPICS } from '@ehr/features';
import { createPipelineTopics } from '../topics.js';

const program = createCommand('topics', "Creates every topic of the pipeline on KAFKA_BROKERS (compose's topics step); existing ones are kept. Configured by KAFKA_* and LOG_LEVEL.").usage(
  '   (node apps/init/dist/cli/topics.js)',
);

await main(program, async () => {
  const logger = createLogger({ service: 'topics', level: process.env.LOG_LEVEL ?? 'info' });
  try {
    await createPipelineTopics(process.env);
    logger.info({ topics: ALL_TOPICS }, 'topics ready');
    return 0;
  } catch (err) {
    // A container's log: one JSON line, like every other line of the step.
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not create the topics');
    return 1;
  }
});
