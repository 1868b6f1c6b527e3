import { PartitionProgress, RecordIsolation, type Bus, type Subscription } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { Authenticator, Counter, createMetricsRegistry, Gauge, Readiness, type HttpConfig, type Logger, type RunnableService } from '@ehr/runtime';
import { loadPolicySync } from '@ehr/alerts';
import { buildApp } from './app.js';
import { createChallenger, type Challenger } from './challenger.js';
import type { ScoringConfig } from './config.js';
import { createDriftMonitor } from './drift.js';
import { ModelHolder } from './model-holder.js';
import { createScoringProcessor } from './processor.js';

export interface ScoringServiceDeps {
  config: Pick<
    ScoringConfig,
    | 'SCORING_GROUP_ID'
    | 'KAFKA_TOPIC_PARTITIONS'
    | 'MODEL_PATH'
    | 'MODEL_WATCH'
    | 'MODEL_WATCH_INTERVAL_MS'
    | 'SCORING_ADMIN_TOKEN'
    | 'SCORING_TOP_FEATURES'
    | 'SCORING_DRIFT_WINDOW'
    | 'SCORING_BODY_LIMIT_BYTES'
    | 'SCORING_CHALLENGER_WINDOW'
    | 'HOST'
    | 'ALLOW_INSECURE'
  > &
    Partial<HttpConfig> &
    Partial<Pick<ScoringConfig, 'AUTH_INGEST_TOKENS' | 'AUTH_READ_TOKENS' | 'AUTH_ADMIN_TOKENS'>> &
    Partial<Pick<ScoringConfig, 'CONSUMER_MAX_ATTEMPTS' | 'CONSUMER_STALL_SECONDS' | 'CHALLENGER_MODEL_PATH' | 'SCORING_CONCURRENT_PARTITIONS' | 'MODEL_MAX_BYTES'>>;
  logger: Logger;
  bus: Bus;
  now?: () => Date;
}

/** Wires the scoring service from its dependencies; `main.ts` (or `npm start`) runs it. */
export function createScoringService({ config, logger, bus, now }: ScoringServiceDeps): RunnableService & { readiness: Readiness; models: ModelHolder; challenger: Challenger | null } {
  const metrics = createMetricsRegistry('scoring');
  const modelInfo = new Gauge({ name: 'ehr_scoring_model_info', help: 'the model in use (1), by name and version', labelNames: ['name', 'version', 'mode'], registers: [metrics] });
  const modelLoads = new Counter({ name: 'ehr_scoring_model_loads_total', help: 'model load attempts, by result', labelNames: ['result'], registers: [metrics] });
  const lag = new Gauge({ name: 'ehr_scoring_consumer_lag_records', help: 'feature vectors behind the head of the topic', registers: [metrics] });

  const models = new ModelHolder(config.MODEL_PATH, logger, (event) => {
    modelLoads.inc({ result: event.kind });
    if (event.kind === 'loaded' && models.current) {
      modelInfo.reset();
      modelInfo.set({ name: models.current.name, version: models.current.version, mode: 'model' }, 1);
    }
  }, undefined, config.MODEL_MAX_BYTES);
  modelInfo.set({ name: 'news2', version: 'none', mode: 'news2_only' }, 1);

  const readiness = new Readiness('scoring').register('bus', () => bus.status());
  const setConsumer = readiness.track('consumer', { state: 'down', detail: 'not started' });
  // Without a model the service still scores (NEWS2 only): degraded, not down.
  readiness.register(
    'model',
    () => {
      const m = models.current;
      return m ? { state: 'up', detail: `${m.name}@${m.version}` } : { state: 'degraded', detail: models.error ?? 'no model loaded: NEWS2 only' };
    },
    { critical: false },
  );

  // The challenger is optional and never critical: without it (or broken) the service serves as before.
  const challenger = config.CHALLENGER_MODEL_PATH
    ? createChallenger({
        path: config.CHALLENGER_MODEL_PATH,
        ...(config.MODEL_MAX_BYTES ? { maxBytes: config.MODEL_MAX_BYTES } : {}),
        bus,
        logger,
        metrics,
        window: config.SCORING_CHALLENGER_WINDOW,
        // The shipped policy: the alerts the ward would get from each model, as the alerting service raises them.
        policy: loadPolicySync('default'),
        topK: config.SCORING_TOP_FEATURES,
        now: now ?? (() => new Date()),
      })
    : null;
  if (challenger) readiness.register('challenger', () => challenger.status(), { critical: false });

  const drift = createDriftMonitor(metrics, config.SCORING_DRIFT_WINDOW);
  const app = buildApp({
    logger,
    metrics,
    readiness,
    models,
    drift,
    challenger,
    auth: new Authenticator(config, {
      service: 'scoring',
      host: config.HOST,
      logger,
      doors: ['read', 'admin'],
      extraAdminTokens: [config.SCORING_ADMIN_TOKEN],
      adminVariables: ['AUTH_ADMIN_TOKENS', 'SCORING_ADMIN_TOKEN'],
    }),
    http: config,
    topK: config.SCORING_TOP_FEATURES,
    bodyLimit: config.SCORING_BODY_LIMIT_BYTES,
    ...(now ? { now } : {}),
  });
  // One vector that throws cannot stop its partition; a stalled partition degrades readiness.
  const isolation = new RecordIsolation({ maxAttempts: config.CONSUMER_MAX_ATTEMPTS ?? 3, logger, metrics });
  const progress = new PartitionProgress({ stallAfterMs: (config.CONSUMER_STALL_SECONDS ?? 60) * 1000, metrics });
  readiness.register('partitions', () => progress.status(), { critical: false });
  const processor = createScoringProcessor({ bus, logger, metrics, models, drift, topK: config.SCORING_TOP_FEATURES, isolation, challenger, ...(now ? { now } : {}) });
  let subscription: Subscription | null = null;
  let lagTimer: NodeJS.Timeout | null = null;

  return {
    app,
    readiness,
    models,
    challenger,
    async start() {
      await models.loadInitial();
      if (config.MODEL_WATCH) models.watch(config.MODEL_WATCH_INTERVAL_MS);
      await challenger?.start(config.MODEL_WATCH ? config.MODEL_WATCH_INTERVAL_MS : null);
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      const topics = [TOPICS.features, TOPICS.scores, TOPICS.deadLetter, ...(challenger ? [TOPICS.shadowScores] : [])];
      await bus.ensureTopics(topics.map((topic) => ({ topic, partitions })));
      subscription = await bus.subscribe({
        groupId: config.SCORING_GROUP_ID,
        topics: [TOPICS.features],
        // Scoring keeps nothing across partitions (the model is read once per batch, drift is synchronous).
        concurrentPartitions: config.SCORING_CONCURRENT_PARTITIONS ?? 1,
        handler: progress.wrap((batch) => processor.handle(batch)),
      });
      progress.attach(subscription);
      lagTimer = setInterval(() => lag.set(subscription?.lag() ?? 0), 1000);
      lagTimer.unref();
      setConsumer({ state: 'up', detail: `group ${config.SCORING_GROUP_ID}` });
    },
    async stop() {
      setConsumer({ state: 'down', detail: 'stopping' });
      models.stopWatching();
      challenger?.stop();
      if (lagTimer) clearInterval(lagTimer);
      await subscription?.stop();
      await bus.close();
    },
  };
}
