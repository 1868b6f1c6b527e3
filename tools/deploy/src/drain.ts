// How far behind each stage of a stack on Kafka is: the records its consumer group has not
// committed on its inputs (@ehr/pipeline's STAGE_INPUTS), from the broker's own offsets. A
// flow-order stop waits on it; a forced one reports it (Kafka keeps those records, and the
// next start consumes them from the committed offsets).
import { createBus, type Bus, type Env } from '@ehr/bus';
import { manifestOf, STAGE_INPUTS } from '@ehr/pipeline';
import { createLogger } from '@ehr/runtime';
import type { ServiceName } from './services.js';

export interface StackBacklog {
  /** Records `service`'s group has not committed; null for a service that consumes nothing. */
  backlog: (service: ServiceName) => Promise<number | null>;
  /** By topic, summed over the stages that read it. */
  byTopic: (services: readonly ServiceName[]) => Promise<Record<string, number>>;
  close: () => Promise<void>;
}

/** `env` as the services see it (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, the *_GROUP_ID variables). */
export async function kafkaBacklog(env: Env): Promise<StackBacklog> {
  const logger = createLogger({ service: 'stack', level: 'warn' });
  const bus: Bus = createBus(manifestOf('producer').checkConfig({ ...env, PORT: '0' }), { clientId: 'stack-drain', logger });
  await bus.connect();
  const inputs = (service: ServiceName) => {
    const manifest = manifestOf(service);
    const topics = STAGE_INPUTS.get(service) ?? [];
    if (!manifest.groupIdVariable || topics.length === 0) return null;
    const config = manifest.checkConfig({ ...env, PORT: '0' }) as unknown as Record<string, unknown>;
    return { groupId: String(config[manifest.groupIdVariable]), topics };
  };
  return {
    backlog: async (service) => {
      const mine = inputs(service);
      return mine ? bus.groupLag(mine.groupId, mine.topics) : null;
    },
    byTopic: async (services) => {
      const counts: Record<string, number> = {};
      for (const service of services) {
        const mine = inputs(service);
        if (!mine) continue;
        for (const topic of mine.topics) counts[topic] = (counts[topic] ?? 0) + (await bus.groupLag(mine.groupId, [topic]));
      }
      return counts;
    },
    close: () => bus.close(),
  };
}
