import { join } from 'node:path';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, DuckDbWarehouse, loadConfig, type LandBatch, type LandResult, type SinkService } from '../src/index.js';
import { makeScore, scoreMessage, tempDir, waitFor, WarehouseWrapper } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

/** A DuckDB warehouse that can be down, or lose the answer of a commit that did land. */
class FlakyWarehouse extends WarehouseWrapper {
  mode: 'up' | 'down' | 'lose-answer' = 'up';
  lostAnswers = 0;
  constructor(inner: DuckDbWarehouse) {
    super(inner, 'flaky duckdb');
  }
  override async landedOffsets(cluster: string, topic: string) {
    if (this.mode === 'down') throw new Error('connection refused');
    return this.inner.landedOffsets(cluster, topic);
  }
  override async land(batch: LandBatch): Promise<LandResult> {
    if (this.mode === 'down') throw new Error('connection refused');
    const result = await this.inner.land(batch);
    if (this.mode === 'lose-answer') {
      this.lostAnswers++;
      this.mode = 'up';
      throw new Error('socket hang up after COMMIT');
    }
    return result;
  }
}

describe('sink with the warehouse down', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('pauses, reports degraded, loses nothing, and recovers on its own, also when a commit landed but its answer was lost', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const flaky = new FlakyWarehouse(new DuckDbWarehouse({ path: join(dir, 'w.duckdb'), logger }));
    const config = loadConfig({ SINK_FLUSH_MS: '30', SINK_RETRY_INITIAL_MS: '50', SINK_RETRY_MAX_MS: '200' });
    const broker = new MemoryBroker({ defaultPartitions: 3 });
    const service: SinkService = createSinkService({ config, logger, bus: new MemoryBus({ broker }), warehouse: flaky });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    const producer = new MemoryBus({ broker });
    const count = async () => Number((await flaky.inner.read('SELECT count(*) AS n FROM severity_scores'))[0]!.n);
    const ready = async () => (await service.app.inject('/health/ready')).json<{ status: string; dependencies: Record<string, { state: string; detail?: string }> }>();
    const scores = Array.from({ length: 600 }, (_, i) => makeScore(i, { run: 'down' }));

    await producer.produce(TOPICS.scores, scores.slice(0, 200).map(scoreMessage));
    await waitFor(async () => (await count()) === 200, 20_000, 'first 200 rows');

    flaky.mode = 'down';
    await producer.produce(TOPICS.scores, scores.slice(200, 400).map(scoreMessage));
    await waitFor(async () => (await ready()).status === 'degraded', 20_000, 'degraded');
    const report = await ready();
    expect((await service.app.inject('/health/ready')).statusCode).toBe(200);
    expect(report.dependencies.warehouse).toMatchObject({ state: 'degraded' });
    expect(report.dependencies.warehouse!.detail).toMatch(/consumption paused/);
    expect(await count()).toBe(200);

    // The next commit lands but its answer is lost; then the warehouse is fine again.
    flaky.mode = 'lose-answer';
    await producer.produce(TOPICS.scores, scores.slice(400).map(scoreMessage));
    await waitFor(async () => (await count()) === 600 && service.processor()!.bufferedRecords() === 0, 30_000, 'all 600 rows');
    await waitFor(async () => (await ready()).status === 'ready', 20_000, 'ready again');
    expect(flaky.lostAnswers).toBe(1);
    const [row] = await flaky.inner.read('SELECT count(*) AS n, count(DISTINCT score_id) AS ids, count(DISTINCT src_partition || \':\' || src_offset) AS positions FROM severity_scores');
    expect(row).toEqual({ n: '600', ids: '600', positions: '600' });
  });

  it('retries a start that failed after migrating (offsets unreadable), then consumes', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const flaky = new FlakyWarehouse(new DuckDbWarehouse({ path: join(dir, 'w.duckdb'), logger }));
    flaky.mode = 'down';
    const broker = new MemoryBroker({ defaultPartitions: 2 });
    const service = createSinkService({ config: loadConfig({ SINK_FLUSH_MS: '30', SINK_RETRY_INITIAL_MS: '50' }), logger, bus: new MemoryBus({ broker }), warehouse: flaky });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    expect((await service.app.inject('/health/ready')).statusCode).toBe(503);
    await new Promise((r) => setTimeout(r, 200));
    flaky.mode = 'up';
    await new MemoryBus({ broker }).produce(TOPICS.scores, Array.from({ length: 50 }, (_, i) => scoreMessage(makeScore(i, { run: 'late' }))));
    await waitFor(async () => Number((await flaky.inner.read('SELECT count(*) AS n FROM severity_scores'))[0]!.n) === 50, 20_000, '50 rows');
    expect((await service.app.inject('/health/ready')).json()).toMatchObject({ status: 'ready' });
  });
});
