import { join } from 'node:path';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, loadConfig, type LandedEvent, type SinkService } from '../src/index.js';
import { makeScore, scoreMessage, tempDir, waitFor } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

describe('per-partition flush: count, bytes or age, whichever comes first', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function run(env: Record<string, string>, scores: number) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const landed: LandedEvent[] = [];
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const service: SinkService = createSinkService({
      config: loadConfig({ DUCKDB_PATH: join(dir, 'w.duckdb'), KAFKA_TOPIC_PARTITIONS: '1', ...env }),
      logger,
      bus: new MemoryBus({ broker }),
      onLanded: (e) => void landed.push(e),
    });
    cleanups.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await service.start();
    const messages = Array.from({ length: scores }, (_, i) => scoreMessage(makeScore(i, { run: JSON.stringify(env) })));
    await new MemoryBus({ broker }).produce(TOPICS.scores, messages);
    return { service, landed, messages };
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

  it('cuts a batch at the byte size', async () => {
    const { landed, messages } = await run({ SINK_FLUSH_BYTES: '4096', SINK_FLUSH_MS: '600000' }, 20);
    await waitFor(() => landed.length >= 2, 20_000, 'two batches');
    let bytes = 0;
    let upTo = 0;
    while (bytes < 4096) bytes += Buffer.byteLength(messages[upTo++]!.value);
    expect(landed[0]!.trigger).toBe('bytes');
    expect(landed[0]!.records).toBe(upTo);
  });

  it('flushes on age when neither count nor size is reached', async () => {
    const { landed } = await run({ SINK_FLUSH_MS: '100' }, 7);
    await waitFor(() => landed.length === 1, 20_000, 'one batch');
    expect([landed[0]!.records, landed[0]!.trigger]).toEqual([7, 'time']);
  });
});
