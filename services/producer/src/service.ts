import type { Bus } from '@ehr/bus';
import { DEFAULT_MAX_FUTURE_SKEW_SECONDS, TOPICS } from '@ehr/features';
import { Authenticator, createMetricsRegistry, Gauge, Readiness, type HttpConfig, type Logger, type RunnableService } from '@ehr/runtime';
import { buildApp } from './app.js';
import type { ProducerConfig } from './config.js';
import { Intake } from './intake.js';
import { createEventPublisher } from './publisher.js';
import { openSource, type SourceSpec } from './sources.js';
import { describePace, streamEvents } from './stream.js';

export interface ProducerServiceDeps {
  config: Pick<
    ProducerConfig,
    | 'KAFKA_TOPIC_PARTITIONS'
    | 'PRODUCER_BODY_LIMIT_BYTES'
    | 'PRODUCER_MAX_BATCH_EVENTS'
    | 'PRODUCER_PUBLISH_TIMEOUT_MS'
    | 'PRODUCER_MAX_CONCURRENT_REQUESTS'
    | 'HOST'
    | 'ALLOW_INSECURE'
  > &
    Partial<HttpConfig> &
    Partial<Pick<ProducerConfig, 'AUTH_INGEST_TOKENS' | 'AUTH_READ_TOKENS' | 'AUTH_ADMIN_TOKENS'>> &
    Partial<Pick<ProducerConfig, 'PRODUCER_SOURCE' | 'PRODUCER_RATE' | 'PRODUCER_SPEED' | 'PRODUCER_SEED' | 'PRODUCER_CENSUS' | 'PRODUCER_ARTEFACT_RATE' | 'PRODUCER_FILE' | 'PRODUCER_STAYS' | 'PRODUCER_BACKFILL_HOURS' | 'MAX_FUTURE_SKEW'>>;
  logger: Logger;
  bus: Bus;
  /** Wall clock for the streamed source (tests pin it). */
  now?: () => number;
}

/** The source `PRODUCER_SOURCE` asks for, or null for none. */
export function sourceSpecFromConfig(config: ProducerServiceDeps['config']): SourceSpec | null {
  const kind = config.PRODUCER_SOURCE ?? 'none';
  if (kind === 'none') return null;
  return {
    kind,
    ...(config.PRODUCER_FILE !== undefined ? { file: config.PRODUCER_FILE } : {}),
    seed: config.PRODUCER_SEED ?? 1,
    census: config.PRODUCER_CENSUS ?? 300,
    artefactRate: config.PRODUCER_ARTEFACT_RATE ?? 0.01,
    ...(kind === 'synthetic' ? { rate: config.PRODUCER_RATE ?? 50, backfillHours: config.PRODUCER_BACKFILL_HOURS ?? 24 } : {}),
    ...(kind === 'physionet' ? { stays: config.PRODUCER_STAYS ?? 100 } : {}),
    ...(config.PRODUCER_SPEED !== undefined ? { speed: config.PRODUCER_SPEED } : {}),
  };
}

/** Wires the producer from its dependencies; `main.ts` (or `npm start`) runs it. */
export function createProducerService({ config, logger, bus, now = Date.now }: ProducerServiceDeps): RunnableService & { readiness: Readiness } {
  const metrics = createMetricsRegistry('producer');
  const readiness = new Readiness('producer').register('bus', () => bus.status());
  const publisher = createEventPublisher(bus, metrics);
  const auth = new Authenticator(config, { service: 'producer', host: config.HOST, logger, doors: ['ingest'] });
  const intake = new Intake({
    publisher,
    bus,
    logger,
    metrics,
    timeoutMs: config.PRODUCER_PUBLISH_TIMEOUT_MS,
    maxConcurrent: config.PRODUCER_MAX_CONCURRENT_REQUESTS,
    report: readiness.track('intake', { state: 'up' }, { critical: false }),
  });
  const clock = { now, maxFutureSkewMs: (config.MAX_FUTURE_SKEW ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS) * 1000 };
  const app = buildApp({
    clock,
    logger,
    metrics,
    readiness,
    intake,
    auth,
    http: config,
    bodyLimit: config.PRODUCER_BODY_LIMIT_BYTES,
    maxBatchEvents: config.PRODUCER_MAX_BATCH_EVENTS,
  });

  const spec = sourceSpecFromConfig(config);
  const eventClock = new Gauge({ name: 'ehr_producer_stream_event_time_seconds', help: 'event-time clock of the streamed source (epoch seconds)', registers: [metrics] });
  const setSource = spec ? readiness.track('source', { state: 'degraded', detail: `${spec.kind}: starting` }, { critical: false }) : null;
  const abort = new AbortController();
  let running: Promise<void> | null = null;

  async function runSource(source: SourceSpec): Promise<void> {
    // A source's refused records (a cohort CSV row it cannot read) are dead-lettered, and it goes on.
    const opened = await openSource({ ...source, deadLetter: (letters) => publisher.deadLetter(letters) }, now());
    const detail = `${opened.description}, ${describePace(opened.pace)}`;
    logger.info({ source: source.kind }, `streaming ${detail}`);
    setSource?.({ state: 'up', detail: `streaming ${detail}` });
    const result = await streamEvents({
      events: opened.events,
      pace: opened.pace,
      ...(opened.shiftTo !== undefined ? { shiftTo: opened.shiftTo } : {}),
      // Never ahead of the wall clock (an accelerated source waits for it); should one be, it is dead-lettered.
      holdAtWallClock: true,
      publish: (events) => publisher.publishChecked(events, clock),
      signal: abort.signal,
      now,
      onProgress: (p) => {
        if (p.eventTime) eventClock.set(Date.parse(p.eventTime) / 1000);
      },
    });
    if (result.done) {
      logger.info({ source: source.kind, events: result.published }, 'source finished');
      setSource?.({ state: 'up', detail: `finished: ${result.published} events from ${opened.description}` });
    }
  }

  return {
    app,
    readiness,
    async start() {
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      await bus.ensureTopics([{ topic: TOPICS.events, partitions }, { topic: TOPICS.deadLetter, partitions }]);
      if (spec) {
        running = runSource(spec).catch((err: unknown) => {
          logger.error({ err, source: spec.kind }, 'source failed');
          setSource?.({ state: 'down', detail: `${spec.kind} failed: ${err instanceof Error ? err.message : String(err)}` });
        });
      }
    },
    // Runs after HTTP has closed (startAndListen): no request is left to find the bus closed.
    async stop() {
      abort.abort();
      await running;
      await bus.close();
    },
  };
}
