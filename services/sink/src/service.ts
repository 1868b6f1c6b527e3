import type { Bus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { backoffDelay, createMetricsRegistry, errorMessage, Readiness, type Logger, type RunnableService } from '@ehr/runtime';
import { buildApp } from './app.js';
import type { SinkConfig } from './config.js';
import { SinkProcessor, type LandedEvent, type SinkProcessorDeps } from './processor.js';
import { createWarehouse, type Warehouse } from './warehouse/index.js';

export interface SinkServiceDeps {
  config: SinkConfig;
  logger: Logger;
  bus: Bus;
  /** Defaults to the warehouse the config chooses (DuckDB unless Snowflake is configured). */
  warehouse?: Warehouse;
  /** Where a relative `DUCKDB_PATH` (and the repository root) is looked up; defaults to the process's. */
  cwd?: string;
  /** Called after every committed warehouse batch (benchmarks, tests). */
  onLanded?: (event: LandedEvent) => void;
  /** Records per batch handed over by the in-memory bus. */
  maxBatchRecords?: number;
  /** The score decoder; tests inject a faulty one to exercise processing_error. */
  decodeScore?: SinkProcessorDeps['decodeScore'];
}

export type SinkService = RunnableService & { readiness: Readiness; warehouse: Warehouse; processor: () => SinkProcessor | null };

/**
 * Wires the sink: bus → processor → warehouse. Starting creates and migrates the tables;
 * if the warehouse cannot be reached yet, the service keeps listening (not ready) and
 * retries in the background, then starts consuming once it is there.
 */
export function createSinkService({ config, logger, bus, warehouse: given, cwd, onLanded, maxBatchRecords, decodeScore }: SinkServiceDeps): SinkService {
  const metrics = createMetricsRegistry('sink');
  const warehouse = given ?? createWarehouse(config, logger, cwd ?? process.cwd());
  const readiness = new Readiness('sink').register('bus', () => bus.status());
  const setWarehouse = readiness.track('warehouse', { state: 'down', detail: 'not connected' });
  const setConsumer = readiness.track('consumer', { state: 'down', detail: 'not started' });
  const app = buildApp({ logger, metrics, readiness, http: config });
  // Not critical: a stalled partition degrades the sink, it does not make it not ready.
  // Created once (its metrics register once); started when the warehouse is there.
  const processor = new SinkProcessor({
    bus,
    warehouse,
    logger,
    metrics,
    groupId: config.SINK_GROUP_ID,
    flush: { records: config.SINK_FLUSH_RECORDS, bytes: config.SINK_FLUSH_BYTES, ms: config.SINK_FLUSH_MS },
    maxBufferedBytes: config.SINK_MAX_BUFFERED_BYTES,
    retry: { initialMs: config.SINK_RETRY_INITIAL_MS, maxMs: config.SINK_RETRY_MAX_MS },
    recordMaxAttempts: config.SINK_RECORD_MAX_ATTEMPTS,
    stallMs: config.SINK_STALL_MS,
    onWarehouseStatus: setWarehouse,
    ...(onLanded ? { onLanded } : {}),
    ...(maxBatchRecords ? { maxBatchRecords } : {}),
    ...(decodeScore ? { decodeScore } : {}),
    ...(bus.kind === 'kafka' && config.KAFKA_TOPIC_PREFIX ? { topicPrefix: config.KAFKA_TOPIC_PREFIX } : {}),
  });
  readiness.register('partitions', () => processor.partitionsStatus(), { critical: false });
  let consuming = false;
  let stopped = false;
  let initTimer: NodeJS.Timeout | null = null;
  let starting: Promise<void> | null = null;

  const consume = async () => {
    await processor.start();
    consuming = true;
    setConsumer({ state: 'up', detail: `group ${config.SINK_GROUP_ID}` });
  };

  /** Connect and migrate the warehouse, then consume; on failure retry with backoff. */
  const bringUp = async (attempt: number): Promise<void> => {
    try {
      await warehouse.init();
      setWarehouse({ state: 'up', detail: warehouse.description });
      logger.info({ warehouse: warehouse.description }, 'warehouse ready');
      if (!stopped) await consume();
    } catch (err) {
      const delay = backoffDelay({ initialMs: config.SINK_RETRY_INITIAL_MS, maxMs: config.SINK_RETRY_MAX_MS }, attempt + 1);
      setWarehouse({ state: 'down', detail: `cannot start (${errorMessage(err)}); retry in ${delay} ms` });
      logger.error({ err, retryInMs: delay, warehouse: warehouse.description }, 'warehouse not available at start; retrying');
      if (stopped) return;
      initTimer = setTimeout(() => {
        initTimer = null;
        starting = bringUp(attempt + 1);
      }, delay);
    }
  };

  return {
    app,
    readiness,
    warehouse,
    processor: () => (consuming ? processor : null),
    async start() {
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      await bus.ensureTopics([
        { topic: TOPICS.scores, partitions },
        { topic: TOPICS.alerts, partitions },
        { topic: TOPICS.shadowScores, partitions },
        { topic: TOPICS.deadLetter, partitions },
      ]);
      starting = bringUp(0);
      await starting;
    },
    async stop() {
      stopped = true;
      if (initTimer) clearTimeout(initTimer);
      await starting;
      setConsumer({ state: 'down', detail: 'stopping' });
      if (consuming) await processor.stop();
      await bus.close();
      await warehouse.close();
    },
  };
}
