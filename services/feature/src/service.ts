import { PartitionProgress, RecordIsolation, type Bus, type Subscription } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createMetricsRegistry, Readiness, type Logger, type RunnableService } from '@ehr/runtime';
import { buildApp } from './app.js';
import { processorOptions, type FeatureConfig } from './config.js';
import { createFeatureProcessor, type FeatureProcessor, type FeatureProcessorDeps } from './processor.js';

export interface FeatureServiceDeps {
  config: FeatureConfig;
  logger: Logger;
  bus: Bus;
  /** The wall clock (future events); tests pin it. */
  now?: () => number;
  /** The feature engine; a test wraps it to make one record throw. */
  engine?: FeatureProcessorDeps['engine'];
}

/** Wires the feature service from its dependencies; `main.ts` (or `npm start`) runs it. */
export function createFeatureService({ config, logger, bus, now, engine }: FeatureServiceDeps): RunnableService & { readiness: Readiness; processor: FeatureProcessor } {
  const metrics = createMetricsRegistry('feature');
  const readiness = new Readiness('feature').register('bus', () => bus.status());
  const setConsumer = readiness.track('consumer', { state: 'down', detail: 'not started' });
  const setState = readiness.track('state', { state: 'down', detail: 'not restored' });
  // A stalled partition degrades readiness (naming it); the other partitions keep flowing.
  const progress = new PartitionProgress({ stallAfterMs: config.CONSUMER_STALL_SECONDS * 1000, metrics });
  readiness.register('partitions', () => progress.status(), { critical: false });
  const isolation = new RecordIsolation({ maxAttempts: config.CONSUMER_MAX_ATTEMPTS, logger, metrics });
  const app = buildApp({ logger, metrics, readiness, http: config });
  const changelog = config.FEATURE_STATE_CHANGELOG === 'on' || (config.FEATURE_STATE_CHANGELOG === 'auto' && bus.kind === 'kafka');
  const processor = createFeatureProcessor({
    bus,
    logger,
    metrics,
    options: processorOptions(config, changelog),
    isolation,
    ...(now ? { now } : {}),
    ...(engine ? { engine } : {}),
    onRestoring: (restoring) => setState(restoring ? { state: 'down', detail: 'restoring from the changelog' } : { state: 'up', detail: stateDetail() }),
  });
  const stateDetail = () => (changelog ? `changelog ${TOPICS.featureState}` : 'in memory only (no changelog)');
  let subscription: Subscription | null = null;
  let inflight: Promise<void> = Promise.resolve();

  return {
    app,
    readiness,
    processor,
    async start() {
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      await bus.ensureTopics([
        { topic: TOPICS.events, partitions },
        { topic: TOPICS.features, partitions },
        { topic: TOPICS.deadLetter, partitions },
        ...(changelog ? [{ topic: TOPICS.featureState, partitions, compacted: true }] : []),
      ]);
      await processor.restoreAtStart();
      setState({ state: 'up', detail: stateDetail() });
      subscription = await bus.subscribe({
        groupId: config.FEATURE_GROUP_ID,
        topics: [TOPICS.events],
        autoCommit: false,
        handler: progress.wrap((batch, context) => (inflight = processor.handle(batch, context))),
      });
      processor.attach(subscription);
      progress.attach(subscription);
      processor.startIdleCheckpoints();
      setConsumer({ state: 'up', detail: `group ${config.FEATURE_GROUP_ID}` });
    },
    async stop() {
      setConsumer({ state: 'down', detail: 'stopping' });
      processor.stopIdleCheckpoints();
      if (subscription) {
        // Let the batch in hand finish, then checkpoint so a restart replays nothing.
        subscription.pause();
        await inflight.catch(() => undefined);
        await processor.checkpointAll().catch((err: unknown) => logger.warn({ err }, 'final checkpoint failed; a restart replays from the last one'));
        await subscription.stop();
      }
      await bus.close();
    },
  };
}
