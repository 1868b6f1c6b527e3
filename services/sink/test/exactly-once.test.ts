// Exactly once, proven on the offsets, not on the ids: every redelivery here carries score
// ids that differ from what landed at the same positions, so the warehouse's skip of known
// score ids cannot hide a second landing. Each test asserts on the offset log and on the
// conflict and skip metrics, and fails when the warehouse-offset read or the guard is broken.
import { join } from 'node:path';
import { MemoryBroker, MemoryBus, type BusRecord } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, DuckDbWarehouse, loadConfig, type LandedEvent, type SinkService, type Warehouse } from '../src/index.js';
import { makeScore, metric, scoreBatch, scoreMessage, tempDir, waitFor } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

describe('exactly once, by offsets', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setup(env: Record<string, string> = {}, partitions = 1) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'warehouse.duckdb');
    const broker = new MemoryBroker({ defaultPartitions: partitions });
    const config = loadConfig({ DUCKDB_PATH: path, KAFKA_TOPIC_PARTITIONS: String(partitions), SINK_FLUSH_MS: '50', ...env });
    return { path, broker, config };
  }

  function service(config: ReturnType<typeof loadConfig>, broker: MemoryBroker, onLanded?: (e: LandedEvent) => void, warehouse?: Warehouse): SinkService {
    const s = createSinkService({ config, logger, bus: new MemoryBus({ broker }), ...(onLanded ? { onLanded } : {}), ...(warehouse ? { warehouse } : {}) });
    cleanups.push(async () => {
      await s.stop();
      await s.app.close();
    });
    return s;
  }

  const metrics = async (s: SinkService) => (await s.app.inject('/metrics')).body;
  const offsetLog = (s: SinkService) => s.warehouse.read('SELECT first_offset AS f, last_offset AS l FROM sink_batches ORDER BY first_offset');

  it('resumes from what the warehouse holds: positions it has are never handed over again, though the topic now carries other score ids there', async () => {
    const { path, broker, config } = setup();
    // An earlier sink (of this cluster) landed offsets 0..49 — with scores other than those on the topic now.
    const earlier = new DuckDbWarehouse({ path, logger });
    await earlier.init();
    await earlier.land(scoreBatch(0, 49, -1n, { cluster: broker.id, run: 'earlier' }));
    await earlier.close();

    await new MemoryBus({ broker }).produce(TOPICS.scores, Array.from({ length: 100 }, (_, i) => scoreMessage(makeScore(i, { run: 'now' }))));
    const s = service(config, broker);
    await s.start();
    await waitFor(() => s.processor()!.landedOffset(TOPICS.scores, 0) === 99n, 20_000, 'offset 99 landed');

    expect(await s.warehouse.read('SELECT COUNT(*) AS n, COUNT(DISTINCT src_offset) AS positions FROM severity_scores')).toEqual([{ n: '100', positions: '100' }]);
    const now = new Set(Array.from({ length: 100 }, (_, i) => makeScore(i, { run: 'now' }).payload.scoreId));
    const landedNow = (await s.warehouse.read('SELECT score_id, src_offset FROM severity_scores')).filter((r) => now.has(r.score_id!));
    expect(landedNow.map((r) => Number(r.src_offset)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    // The offset log: the earlier sink's range, then this sink's, contiguous.
    const log = await offsetLog(s);
    expect(log[0]).toEqual({ f: '0', l: '49' });
    for (let k = 1; k < log.length; k++) expect(Number(log[k]!.f)).toBe(Number(log[k - 1]!.l) + 1);
    expect(log[log.length - 1]!.l).toBe('99');
    // The bus started the partition after what the warehouse holds: 0..49 were never handed over, no write was refused.
    const text = await metrics(s);
    expect(metric(text, 'ehr_sink_redelivered_skipped_total')).toBe(0);
    expect(metric(text, 'ehr_sink_warehouse_failures_total', { kind: 'offset_conflict' })).toBe(0);
  });

  it('a writer that got there first: the guard refuses the stale batch, the sink re-reads, drops what landed and lands only the rest', async () => {
    const { path, broker, config } = setup({ SINK_FLUSH_MS: '600000' });
    const landed: LandedEvent[] = [];
    const s = service(config, broker, (e) => landed.push(e));
    await s.start();
    await new MemoryBus({ broker }).produce(TOPICS.scores, Array.from({ length: 100 }, (_, i) => scoreMessage(makeScore(i, { run: 'sink' }))));
    await waitFor(() => s.processor()!.bufferedRecords() === 100, 20_000, '100 buffered');
    // Meanwhile another writer (a zombie owner, another sink) lands offsets 0..59 with other scores.
    await s.warehouse.land(scoreBatch(0, 59, -1n, { cluster: broker.id, run: 'other-writer' }));
    const before = await metrics(s);
    await s.stop(); // lands what is buffered

    expect(metric(before, 'ehr_sink_warehouse_failures_total', { kind: 'offset_conflict' })).toBe(0);
    expect(landed.map((e) => [e.records, e.lastOffset])).toEqual([[40, 99n]]);
    const text = await metrics(s);
    expect(metric(text, 'ehr_sink_warehouse_failures_total', { kind: 'offset_conflict' })).toBe(1);
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    cleanups.push(() => w.close());
    expect(await w.read('SELECT COUNT(*) AS n, COUNT(DISTINCT src_offset) AS positions FROM severity_scores')).toEqual([{ n: '100', positions: '100' }]);
    expect(await w.read('SELECT first_offset AS f, last_offset AS l FROM sink_batches ORDER BY first_offset')).toEqual([
      { f: '0', l: '59' },
      { f: '60', l: '99' },
    ]);
  });

  it('records redelivered at offsets it has taken (with other contents) are skipped and counted, never landed', async () => {
    const { broker, config } = setup();
    const s = service(config, broker);
    await s.start();
    await new MemoryBus({ broker }).produce(TOPICS.scores, Array.from({ length: 30 }, (_, i) => scoreMessage(makeScore(i, { run: 'first' }))));
    await waitFor(() => s.processor()!.landedOffset(TOPICS.scores, 0) === 29n, 20_000, 'first delivery');
    // The same offsets handed over again (a redelivery after a rebalance), now carrying other scores.
    const redelivered: BusRecord[] = Array.from({ length: 30 }, (_, i) => ({
      topic: TOPICS.scores,
      partition: 0,
      offset: String(i),
      key: 'p',
      value: Buffer.from(scoreMessage(makeScore(i, { run: 'second' })).value),
      headers: {},
      timestamp: Date.now(),
    }));
    await s.processor()!.handle({ topic: TOPICS.scores, partition: 0, records: redelivered, highWatermark: '30' });
    expect(s.processor()!.bufferedRecords()).toBe(0);
    expect(metric(await metrics(s), 'ehr_sink_redelivered_skipped_total')).toBe(30);
    expect(await s.warehouse.read('SELECT COUNT(*) AS n FROM severity_scores')).toEqual([{ n: '30' }]);
  });

  it('drops the buffers of a partition this sink no longer owns instead of landing them; its new owner lands them once', async () => {
    const { path, broker, config } = setup({ SINK_FLUSH_MS: '3000', SINK_GROUP_ID: 'shared' }, 4);
    // One DuckDB file can be open once per process: both members write through one warehouse.
    const shared = new DuckDbWarehouse({ path, logger });
    cleanups.push(() => shared.close());
    const unclosable: Warehouse = Object.assign(Object.create(shared) as Warehouse, { close: async () => undefined });
    const landedByA: LandedEvent[] = [];
    const a = service(config, broker, (e) => landedByA.push(e), unclosable);
    await a.start();
    const producer = new MemoryBus({ broker });
    await producer.produce(TOPICS.scores, Array.from({ length: 400 }, (_, i) => scoreMessage(makeScore(i, { run: 'revoke', patients: 97 }))));
    await waitFor(() => a.processor()!.bufferedRecords() === 400, 20_000, 'a buffers everything');
    // b joins the group before a's buffers are due: the rebalance hands some of a's partitions to b.
    const b = service(config, broker, undefined, unclosable);
    await b.start();
    await waitFor(async () => (await b.warehouse.read('SELECT COUNT(*) AS n FROM severity_scores'))[0]!.n === '400', 30_000, 'all 400 landed');
    const owned = new Set(a.processor()!.assignment().map((tp) => tp.partition));
    expect(owned.size).toBeGreaterThan(0);
    expect(owned.size).toBeLessThan(4);
    // a landed only partitions it still owns, and dropped the rest (counted).
    expect(landedByA.every((e) => owned.has(e.partition))).toBe(true);
    expect(metric(await metrics(a), 'ehr_sink_revoked_dropped_total')).toBeGreaterThan(0);
    expect(await a.warehouse.read('SELECT COUNT(*) AS n, COUNT(DISTINCT src_partition * 100000 + src_offset) AS positions FROM severity_scores')).toEqual([{ n: '400', positions: '400' }]);
  });
});
