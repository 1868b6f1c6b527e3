import { join } from 'node:path';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, DuckDbWarehouse, loadConfig, type LandBatch, type LandedEvent, type LandResult, type SinkService, type Warehouse } from '../src/index.js';
import { makeScore, scoreMessage, tempDir, waitFor, WarehouseWrapper } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

/** The real DuckDB warehouse, whose writes wait at a gate the test opens. */
class GatedWarehouse extends WarehouseWrapper {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  writesWaiting = 0;
  constructor(inner: DuckDbWarehouse) {
    super(inner, 'gated duckdb');
  }
  hold() {
    this.gate = new Promise((r) => (this.open = r));
  }
  release() {
    this.open?.();
    this.gate = null;
  }
  override async land(batch: LandBatch): Promise<LandResult> {
    if (this.gate) {
      this.writesWaiting++;
      await this.gate;
      this.writesWaiting--;
    }
    return this.inner.land(batch);
  }
}

describe('per-partition flush: count, bytes or age from the first record, whichever comes first', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function run(env: Record<string, string>, scores: number, options: { warehouse?: (path: string) => Warehouse; maxBatchRecords?: number } = {}) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const landed: LandedEvent[] = [];
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const path = join(dir, 'w.duckdb');
    const service: SinkService = createSinkService({
      config: loadConfig({ DUCKDB_PATH: path, KAFKA_TOPIC_PARTITIONS: '1', ...env }),
      logger,
      bus: new MemoryBus({ broker }),
      onLanded: (e) => void landed.push(e),
      ...(options.warehouse ? { warehouse: options.warehouse(path) } : {}),
      ...(options.maxBatchRecords ? { maxBatchRecords: options.maxBatchRecords } : {}),
    });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    const producer = new MemoryBus({ broker });
    const messages = Array.from({ length: scores }, (_, i) => scoreMessage(makeScore(i, { run: JSON.stringify(env) })));
    if (scores > 0) await producer.produce(TOPICS.scores, messages);
    return { service, landed, messages, producer, env };
  }

  it('cuts a batch at the record count', async () => {
    const { service, landed } = await run({ SINK_FLUSH_RECORDS: '10', SINK_FLUSH_MS: '600000' }, 25);
    await waitFor(() => landed.length === 2, 20_000, 'two batches');
    expect(landed.map((e) => [e.records, e.trigger])).toEqual([
      [10, 'records'],
      [10, 'records'],
    ]);
    // The rest waits for its age (ten minutes here) or the shutdown.
    expect(service.processor()!.bufferedRecords()).toBe(5);
  });

  it('cuts a batch at the byte size (values, keys and a fixed overhead per record)', async () => {
    const { landed, messages } = await run({ SINK_FLUSH_BYTES: '4096', SINK_FLUSH_MS: '600000' }, 20);
    await waitFor(() => landed.length >= 2, 20_000, 'two batches');
    let bytes = 0;
    let upTo = 0;
    while (bytes < 4096) {
      const m = messages[upTo++]!;
      bytes += Buffer.byteLength(m.value) + m.key.length + 128;
    }
    expect(landed[0]!.trigger).toBe('bytes');
    expect(landed[0]!.records).toBe(upTo);
  });

  it('flushes on age when neither count nor size is reached', async () => {
    const { landed } = await run({ SINK_FLUSH_MS: '100' }, 7);
    await waitFor(() => landed.length === 1, 20_000, 'one batch');
    expect([landed[0]!.records, landed[0]!.trigger]).toEqual([7, 'time']);
  });

  it('counts the age from the first record: a steady trickle still lands batch after batch while it lasts', async () => {
    // Records every 25 ms, far more often than SINK_FLUSH_MS: an age counted from the last
    // record would never be reached while the trickle lasts.
    const { landed, producer } = await run({ SINK_FLUSH_MS: '200' }, 0);
    let i = 0;
    while (landed.length < 3) {
      await producer.produce(TOPICS.scores, [scoreMessage(makeScore(i++, { run: 'trickle' }))]);
      await new Promise((r) => setTimeout(r, 25));
      if (i > 2_000) throw new Error('no age-triggered batch while records kept coming');
    }
    expect(landed.every((e) => e.trigger === 'time')).toBe(true);
  });

  it('fills the next batch while the current one is being written', async () => {
    let gated: GatedWarehouse | null = null;
    const { service, landed, producer } = await run({ SINK_FLUSH_RECORDS: '10', SINK_FLUSH_MS: '600000' }, 0, {
      maxBatchRecords: 10,
      warehouse: (path) => (gated = new GatedWarehouse(new DuckDbWarehouse({ path, logger }))),
    });
    gated!.hold();
    await producer.produce(
      TOPICS.scores,
      Array.from({ length: 40 }, (_, i) => scoreMessage(makeScore(i, { run: 'overlap' }))),
    );
    // The first write waits at the gate; the handler has returned, and the next ten are buffered meanwhile.
    await waitFor(() => gated!.writesWaiting === 1 && service.processor()!.bufferedRecords() === 20, 20_000, 'the next batch to fill during the first write');
    expect(landed).toHaveLength(0);
    gated!.release();
    await waitFor(() => landed.reduce((n, e) => n + e.records, 0) === 40, 20_000, 'all 40 landed');
    expect(landed.map((e) => [e.records, e.trigger])).toEqual(Array.from({ length: 4 }, () => [10, 'records']));
  });
});
