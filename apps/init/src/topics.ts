// Every topic of @ehr/features, created before the services start: services create their
// own at start too, but several doing so at once on a fresh cluster race (kafkajs'
// createTopics can fail with UNKNOWN_TOPIC_OR_PARTITION while another creates the same
// topic). docker-compose.yml's `topics` step does the same in a container.
import { BusEnv, createBus } from '@ehr/bus';
import { ALL_TOPICS, COMPACTED_TOPICS } from '@ehr/features';
import { createLogger, readConfig } from '@ehr/runtime';

/** Creates the missing topics on `KAFKA_BROKERS` (prefix, partitions, TLS and SASL from the same variables as the services). */
export async function createPipelineTopics(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = readConfig(BusEnv, env, 'topics');
  if (!config.KAFKA_BROKERS) return;
  // Silent: a failure is thrown with its reason; the runner's log is the services'.
  const bus = createBus(config, { clientId: 'topics', logger: createLogger({ service: 'topics', level: 'silent' }) });
  try {
    await bus.connect();
    await bus.ensureTopics(ALL_TOPICS.map((topic) => ({ topic, partitions: config.KAFKA_TOPIC_PARTITIONS, compacted: COMPACTED_TOPICS.has(topic) })));
  } finally {
    await bus.close();
  }
}
