import { join } from 'node:path';
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, loadConfig, type SinkService } from '../src/index.js';
import { makeScore, scoreMessage, tempDir, waitFor } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

describe('sink service on the in-memory bus', () => {
  const running: SinkService[] = [];
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop();
      await s.app.close();
    }
    for (const c of cleanups.splice(0)) c();
  });

  function setup(env: Record<string, string> = {}) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'warehouse.duckdb');
    const config = loadConfig({ DUCKDB_PATH: path, SINK_FLUSH_MS: '50', ...env });
    return { path, config };
  }

  function start(config: ReturnType<typeof loadConfig>, bus: MemoryBus): SinkService {
    const service = createSinkService({ config, logger, bus });
    running.push(service);
    return service;
  }

  async function stopAll() {
    for (const s of running.splice(0)) {
      await s.stop();
      await s.app.close();
    }
  }

  const count = async (s: SinkService, table = 'severity_scores') => Number((await s.warehouse.read(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

  it('answers health, readiness and metrics, and is ready only once the warehouse is there and it consumes', async () => {
    const { config } = setup();
    const service = start(config, new MemoryBus());
    expect((await service.app.inject('/health/live')).statusCode).toBe(200);
    const before = await service.app.inject('/health/ready');
    expect([before.statusCode, before.json().status]).toEqual([503, 'not_ready']);
    await service.start();
    const after = await service.app.inject('/health/ready');
    expect([after.statusCode, after.json().status]).toEqual([200, 'ready']);
    expect(after.json().dependencies.warehouse).toMatchObject({ state: 'up' });
    const metrics = await service.app.inject('/metrics');
    expect(metrics.body).toContain('ehr_sink_events_total');
    expect(metrics.body).toContain('ehr_sink_end_to_end_seconds');
  });

  it("lands a challenger's scores from ehr.shadow-scores.v1 in shadow_scores, never in severity_scores", async () => {
    const { config } = setup();
    const bus = new MemoryBus({ defaultPartitions: 2 });
    const service = start(config, bus);
    await service.start();
    const served = Array.from({ length: 20 }, (_, i) => makeScore(i));
    const shadow = served.map((s) => ({ ...s, eventId: `shadow-${s.eventId}`, payload: { ...s.payload, scoreId: `shadow-${s.payload.scoreId}`, model: { name: 'challenger', version: '2' } } }));
    await bus.produce(TOPICS.scores, served.map(scoreMessage));
    await bus.produce(TOPICS.shadowScores, shadow.map(scoreMessage));
    // Delivered twice (a redelivery upstream): still one row each.
    await bus.produce(TOPICS.shadowScores, shadow.slice(0, 5).map(scoreMessage));
    await waitFor(async () => (await count(service)) === 20 && (await count(service, 'shadow_scores')) === 20, 20_000, 'served and shadow rows');
    await new Promise((r) => setTimeout(r, 200));
    expect(await count(service, 'shadow_scores')).toBe(20);
    expect(new Set((await service.warehouse.read('SELECT model_name FROM severity_scores')).map((r) => r.model_name))).toEqual(new Set(['severity-rf']));
    expect(new Set((await service.warehouse.read('SELECT src_topic FROM shadow_scores')).map((r) => r.src_topic))).toEqual(new Set([TOPICS.shadowScores]));
    expect((await service.app.inject('/metrics')).body).toMatch(/^ehr_sink_rows_landed_total\{table="shadow_scores",service="sink"\} 20$/m);
  });

  it('lands every score once, with lineage, and commits the bus offsets after the warehouse', async () => {
    const { config } = setup();
    const bus = new MemoryBus({ defaultPartitions: 3 });
    const service = start(config, bus);
    await service.start();
    const scores = Array.from({ length: 500 }, (_, i) => makeScore(i));
    await bus.produce(TOPICS.scores, scores.map(scoreMessage));
    await waitFor(async () => (await count(service)) === 500, 20_000, '500 rows');
    const rows = await service.warehouse.read('SELECT score_id, src_topic, src_partition, src_offset FROM severity_scores');
    expect(new Set(rows.map((r) => r.score_id))).toEqual(new Set(scores.map((s) => s.payload.scoreId)));
    expect(new Set(rows.map((r) => r.src_topic))).toEqual(new Set([TOPICS.scores]));
    const perPartition = new Map<number, number>();
    for (const r of rows) perPartition.set(Number(r.src_partition), (perPartition.get(Number(r.src_partition)) ?? 0) + 1);
    for (const [partition, n] of perPartition) {
      await waitFor(() => service.processor()!.landedOffset(TOPICS.scores, partition) === BigInt(n - 1), 5_000, 'offsets');
    }
  });

  it('dead-letters what it cannot read, and lands the dead letter in the audit table', async () => {
    const { config } = setup();
    const bus = new MemoryBus();
    const service = start(config, bus);
    await service.start();
    const garbage = Buffer.from('{"schema":"x",');
    await bus.produce(TOPICS.scores, [{ key: 'p1', value: garbage }, scoreMessage(makeScore(1))]);
    await waitFor(async () => (await count(service, 'dead_letters')) === 1 && (await count(service)) === 1, 20_000, 'dead letter row');
    const [letter] = await service.warehouse.read('SELECT reason, service, source_topic, source_offset, original_bytes, src_topic FROM dead_letters');
    expect(letter).toMatchObject({ reason: 'unparseable', service: 'sink', source_topic: TOPICS.scores, src_topic: TOPICS.deadLetter });
    expect(Buffer.from(String(letter!.original_bytes), 'base64')).toEqual(garbage);
  });

  it('two consecutive npm-start-like runs (a new in-memory broker each, one DuckDB file) both land all their rows, none twice', async () => {
    const { config } = setup();
    const broker1 = new MemoryBroker();
    const first = start(config, new MemoryBus({ broker: broker1 }));
    await first.start();
    const run1 = Array.from({ length: 300 }, (_, i) => makeScore(i, { run: 'start-1' }));
    const bus1 = new MemoryBus({ broker: broker1 });
    await bus1.produce(TOPICS.scores, run1.map(scoreMessage));
    await waitFor(async () => (await count(first)) === 300, 20_000, 'run 1');
    await stopAll();

    // Offsets start at 0 again on the new broker: the warehouse must not skip them.
    const secondBus = new MemoryBus({ broker: new MemoryBroker() });
    const second = start(config, secondBus);
    await second.start();
    const run2 = Array.from({ length: 200 }, (_, i) => makeScore(i, { run: 'start-2' }));
    await secondBus.produce(TOPICS.scores, run2.map(scoreMessage));
    await waitFor(async () => (await count(second)) === 500, 20_000, 'run 2');
    const [row] = await second.warehouse.read('SELECT count(*) AS n, count(DISTINCT score_id) AS ids, count(DISTINCT src_cluster) AS clusters FROM severity_scores');
    expect(row).toEqual({ n: '500', ids: '500', clusters: '2' });
  });

  it('never lands a redelivered record twice: replays within a run, and a group that lost its bus offsets', async () => {
    const { config } = setup();
    const broker = new MemoryBroker();
    const bus = new MemoryBus({ broker });
    const service = start(config, bus);
    await service.start();
    const scores = Array.from({ length: 100 }, (_, i) => makeScore(i));
    await bus.produce(TOPICS.scores, scores.map(scoreMessage));
    await waitFor(async () => (await count(service)) === 100, 20_000, 'first delivery');

    // The handler sees the same records again (a redelivery after a rebalance).
    const p = broker.topics.get(TOPICS.scores)!.partitions;
    for (let partition = 0; partition < p.length; partition++) {
      const { records } = p[partition]!.read(0, 1000);
      if (records.length > 0) await service.processor()!.handle({ topic: TOPICS.scores, partition, records, highWatermark: String(records.length) });
    }
    await stopAll();

    // A sink in another group has no bus offsets at all: the warehouse offsets still hold.
    const again = start(loadConfig({ DUCKDB_PATH: config.DUCKDB_PATH!, SINK_FLUSH_MS: '50', SINK_GROUP_ID: 'sink-other' }), new MemoryBus({ broker }));
    await again.start();
    await new MemoryBus({ broker }).produce(TOPICS.scores, [scoreMessage(makeScore(100))]);
    await waitFor(async () => (await count(again)) === 101, 20_000, 'the new score');
    const [row] = await again.warehouse.read('SELECT count(*) AS n, count(DISTINCT score_id) AS ids FROM severity_scores');
    expect(row).toEqual({ n: '101', ids: '101' });
  });
});
