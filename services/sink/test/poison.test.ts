// One record never stops the sink: a record whose conversion keeps throwing is tried
// SINK_RECORD_MAX_ATTEMPTS times, then lands as a `processing_error` dead letter with the
// error and its bytes, and its partition moves on. A partition that makes no progress
// shows in readiness (naming it) and in the age of its oldest waiting record.
import { join } from 'node:path';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { decodeSeverityScore, TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, DuckDbWarehouse, loadConfig, type LandBatch, type LandResult, type SinkService } from '../src/index.js';
import { makeScore, metric, scoreMessage, tempDir, waitFor, WarehouseWrapper } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

/** The real DuckDB warehouse, which the test can take down. */
class SwitchableWarehouse extends WarehouseWrapper {
  down = false;
  constructor(inner: DuckDbWarehouse) {
    super(inner, 'switchable duckdb');
  }
  override async landedOffsets(cluster: string, topic: string) {
    if (this.down) throw new Error('connection refused');
    return this.inner.landedOffsets(cluster, topic);
  }
  override async land(batch: LandBatch): Promise<LandResult> {
    if (this.down) throw new Error('connection refused');
    return this.inner.land(batch);
  }
}

describe('poison records and stalled partitions', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function start(env: Record<string, string>, deps: Partial<Parameters<typeof createSinkService>[0]> = {}) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const service: SinkService = createSinkService({
      config: loadConfig({ DUCKDB_PATH: join(dir, 'w.duckdb'), KAFKA_TOPIC_PARTITIONS: '1', SINK_FLUSH_MS: '50', ...env }),
      logger,
      bus: new MemoryBus({ broker }),
      ...deps,
    });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    return { service, broker, dir };
  }

  it('tries a record whose conversion throws a bounded number of times, then dead-letters it as processing_error and moves on', async () => {
    const scores = Array.from({ length: 40 }, (_, i) => makeScore(i, { run: 'poison' }));
    const poison = scores[10]!.payload.scoreId;
    const flaky = scores[20]!.payload.scoreId;
    const attempts = new Map<string, number>();
    // A decoder with a bug that only some records hit: one always, one twice and then never again.
    const decodeScore = (bytes: Uint8Array) => {
      const text = Buffer.from(bytes).toString();
      for (const id of [poison, flaky]) {
        if (!text.includes(id)) continue;
        const n = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, n);
        if (id === poison || n <= 2) throw new RangeError(`decoder bug on attempt ${n}`);
      }
      return decodeSeverityScore(bytes);
    };
    const { service, broker } = start({}, { decodeScore });
    await service.start();
    const messages = scores.map(scoreMessage);
    await new MemoryBus({ broker }).produce(TOPICS.scores, messages);
    await waitFor(() => service.processor()?.landedOffset(TOPICS.scores, 0) === 39n, 20_000, 'the partition to reach its end');

    expect(attempts.get(poison)).toBe(3);
    expect(attempts.get(flaky)).toBe(3);
    const w = service.warehouse;
    expect(await w.read('SELECT COUNT(*) AS n FROM severity_scores')).toEqual([{ n: '39' }]);
    expect(await w.read(`SELECT COUNT(*) AS n FROM severity_scores WHERE score_id = ?`, [flaky])).toEqual([{ n: '1' }]);
    const [letter, ...more] = await w.read('SELECT reason, service, error, source_topic, source_offset, original_bytes FROM dead_letters');
    expect(more).toHaveLength(0);
    expect(letter).toMatchObject({ reason: 'processing_error', service: 'sink', source_topic: TOPICS.scores, source_offset: '10' });
    expect(letter!.error).toBe('conversion failed 3 time(s): decoder bug on attempt 3');
    expect(Buffer.from(letter!.original_bytes!, 'base64').toString()).toBe(messages[10]!.value);
    const text = (await service.app.inject('/metrics')).body;
    expect(metric(text, 'ehr_sink_record_retries_total')).toBe(5);
    expect(metric(text, 'ehr_sink_dead_letters_total', { reason: 'processing_error' })).toBe(1);
  });

  it('takes SINK_RECORD_MAX_ATTEMPTS from the configuration', async () => {
    const scores = Array.from({ length: 5 }, (_, i) => makeScore(i, { run: 'attempts' }));
    let calls = 0;
    const decodeScore = (bytes: Uint8Array) => {
      if (Buffer.from(bytes).toString().includes(scores[2]!.payload.scoreId)) {
        calls++;
        throw new Error('always');
      }
      return decodeSeverityScore(bytes);
    };
    const { service, broker } = start({ SINK_RECORD_MAX_ATTEMPTS: '5' }, { decodeScore });
    await service.start();
    await new MemoryBus({ broker }).produce(TOPICS.scores, scores.map(scoreMessage));
    await waitFor(() => service.processor()?.landedOffset(TOPICS.scores, 0) === 4n, 20_000, 'the end');
    expect(calls).toBe(5);
    expect(await service.warehouse.read('SELECT error FROM dead_letters')).toEqual([{ error: 'conversion failed 5 time(s): always' }]);
  });

  it('shows a partition that makes no progress in readiness, naming it, and the age of its oldest waiting record as a metric', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const warehouse = new SwitchableWarehouse(new DuckDbWarehouse({ path: join(dir, 'w.duckdb'), logger }));
    const { service, broker } = start({ SINK_STALL_MS: '300', SINK_RETRY_INITIAL_MS: '50', SINK_RETRY_MAX_MS: '100' }, { warehouse });
    await service.start();
    const ready = async () => (await service.app.inject('/health/ready')).json<{ status: string; dependencies: Record<string, { state: string; detail?: string }> }>();
    const oldest = async () => metric((await service.app.inject('/metrics')).body, 'ehr_sink_oldest_unprocessed_seconds', { topic: TOPICS.scores, partition: '0' });
    expect((await ready()).dependencies.partitions).toMatchObject({ state: 'up' });

    warehouse.down = true;
    await new MemoryBus({ broker }).produce(TOPICS.scores, Array.from({ length: 10 }, (_, i) => scoreMessage(makeScore(i, { run: 'stall' }))));
    await waitFor(async () => (await ready()).dependencies.partitions?.state === 'degraded', 20_000, 'partitions degraded');
    const report = await ready();
    expect(report.status).toBe('degraded');
    expect(report.dependencies.partitions!.detail).toMatch(new RegExp(`${TOPICS.scores.replace(/\./g, '\\.')}\\[0\\] \\(10 records, none landed for \\d+ s\\)`));
    expect(await oldest()).toBeGreaterThan(0.3);

    warehouse.down = false;
    await waitFor(async () => (await ready()).status === 'ready', 20_000, 'ready again');
    expect((await ready()).dependencies.partitions).toMatchObject({ state: 'up' });
    expect(await oldest()).toBe(0);
  });
});
