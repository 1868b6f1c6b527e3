// Alert events (ehr.alerts.v1) land in `alerts` exactly once, by the same offset protocol as
// scores: proven on the offsets, not on the ids (every redelivery here carries other event ids
// at the same positions, so the skip of known event ids cannot hide a second landing), and
// bad alert records are dead-lettered like bad scores (what the contract refuses on the topic,
// what the warehouse refuses as the sink's own warehouse_rejected).
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryBroker, MemoryBus, type BusRecord } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createSinkService, DuckDbWarehouse, loadConfig, MIGRATIONS, type LandedEvent, type SinkService } from '../src/index.js';
import { alertBatch, alertMessage, makeAlert, metric, tempDir, waitFor } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

describe('alert events, exactly once', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function setup(env: Record<string, string> = {}) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'warehouse.duckdb');
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const config = loadConfig({ DUCKDB_PATH: path, KAFKA_TOPIC_PARTITIONS: '1', SINK_FLUSH_MS: '50', ...env });
    return { path, broker, config };
  }

  function service(config: ReturnType<typeof loadConfig>, broker: MemoryBroker, onLanded?: (e: LandedEvent) => void): SinkService {
    const s = createSinkService({ config, logger, bus: new MemoryBus({ broker }), ...(onLanded ? { onLanded } : {}) });
    cleanups.push(async () => {
      await s.stop();
      await s.app.close();
    });
    return s;
  }

  const alerts = (n: number, run: string) => Array.from({ length: n }, (_, i) => alertMessage(makeAlert(i, { run })));
  const metrics = async (s: SinkService) => (await s.app.inject('/metrics')).body;

  it('resumes from the warehouse offset of ehr.alerts.v1: positions it holds are never landed again, though the topic carries other events there', async () => {
    const { path, broker, config } = setup();
    const earlier = new DuckDbWarehouse({ path, logger });
    await earlier.init();
    await earlier.land(alertBatch(0, 8, -1n, { cluster: broker.id, run: 'earlier' }));
    await earlier.close();

    await new MemoryBus({ broker }).produce(TOPICS.alerts, alerts(18, 'now'));
    const s = service(config, broker);
    await s.start();
    await waitFor(() => s.processor()!.landedOffset(TOPICS.alerts, 0) === 17n, 20_000, 'offset 17 landed');

    expect(await s.warehouse.read('SELECT COUNT(*) AS n, COUNT(DISTINCT src_offset) AS positions FROM alerts')).toEqual([{ n: '18', positions: '18' }]);
    const now = new Set(Array.from({ length: 18 }, (_, i) => makeAlert(i, { run: 'now' }).eventId));
    const landedNow = (await s.warehouse.read('SELECT event_id, src_offset FROM alerts')).filter((r) => now.has(r.event_id!));
    expect(landedNow.map((r) => Number(r.src_offset)).sort((a, b) => a - b)).toEqual(Array.from({ length: 9 }, (_, i) => 9 + i));
    const text = await metrics(s);
    expect(metric(text, 'ehr_sink_redelivered_skipped_total')).toBe(0);
    expect(metric(text, 'ehr_sink_warehouse_failures_total', { kind: 'offset_conflict' })).toBe(0);
    expect(metric(text, 'ehr_sink_rows_landed_total', { table: 'alerts' })).toBe(9);
  });

  it('a writer that got there first: the guard refuses the stale alert batch, the sink re-reads and lands only the rest', async () => {
    const { path, broker, config } = setup({ SINK_FLUSH_MS: '600000' });
    const landed: LandedEvent[] = [];
    const s = service(config, broker, (e) => landed.push(e));
    await s.start();
    await new MemoryBus({ broker }).produce(TOPICS.alerts, alerts(18, 'sink'));
    await waitFor(() => s.processor()!.bufferedRecords() === 18, 20_000, '18 buffered');
    // Meanwhile another writer (a zombie owner, another sink) lands offsets 0..11 with other events.
    await s.warehouse.land(alertBatch(0, 11, -1n, { cluster: broker.id, run: 'other-writer' }));
    await s.stop(); // lands what is buffered

    expect(landed.map((e) => [e.topic, e.records, e.lastOffset])).toEqual([[TOPICS.alerts, 6, 17n]]);
    expect(metric(await metrics(s), 'ehr_sink_warehouse_failures_total', { kind: 'offset_conflict' })).toBe(1);
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    cleanups.push(() => w.close());
    expect(await w.read('SELECT COUNT(*) AS n, COUNT(DISTINCT src_offset) AS positions FROM alerts')).toEqual([{ n: '18', positions: '18' }]);
    expect(await w.read(`SELECT first_offset AS f, last_offset AS l FROM sink_batches WHERE topic = '${TOPICS.alerts}' ORDER BY first_offset`)).toEqual([
      { f: '0', l: '11' },
      { f: '12', l: '17' },
    ]);
  });

  it('alert events redelivered at offsets it has taken (with other contents) are skipped and counted, never landed', async () => {
    const { broker, config } = setup();
    const s = service(config, broker);
    await s.start();
    await new MemoryBus({ broker }).produce(TOPICS.alerts, alerts(9, 'first'));
    await waitFor(() => s.processor()!.landedOffset(TOPICS.alerts, 0) === 8n, 20_000, 'first delivery');
    const redelivered: BusRecord[] = alerts(9, 'second').map((m, i) => ({
      topic: TOPICS.alerts,
      partition: 0,
      offset: String(i),
      key: m.key,
      value: Buffer.from(m.value),
      headers: {},
      timestamp: Date.now(),
    }));
    await s.processor()!.handle({ topic: TOPICS.alerts, partition: 0, records: redelivered, highWatermark: '9' });
    expect(s.processor()!.bufferedRecords()).toBe(0);
    expect(metric(await metrics(s), 'ehr_sink_redelivered_skipped_total')).toBe(9);
    expect(await s.warehouse.read('SELECT COUNT(*) AS n FROM alerts')).toEqual([{ n: '9' }]);
  });

  it('dead-letters alert records that are not alert events (with their bytes and reason) and lands the good ones', async () => {
    const { broker, config } = setup();
    const s = service(config, broker);
    await s.start();
    const broken = makeAlert(1, { run: 'bad' }) as unknown as { payload: Record<string, unknown> };
    broken.payload.type = 'forgotten'; // not a transition of the contract
    await new MemoryBus({ broker }).produce(TOPICS.alerts, [
      alertMessage(makeAlert(0, { run: 'bad' })),
      { key: 'p1', value: '{not json' },
      { key: 'p1', value: JSON.stringify(broken) },
      alertMessage(makeAlert(2, { run: 'bad' })),
    ]);
    await waitFor(async () => (await s.warehouse.read('SELECT COUNT(*) AS n FROM dead_letters'))[0]!.n === '2', 20_000, 'two dead letters landed');
    await waitFor(() => s.processor()!.landedOffset(TOPICS.alerts, 0) === 3n, 20_000, 'the alerts partition moved past them');
    expect(await s.warehouse.read('SELECT src_offset AS o FROM alerts ORDER BY src_offset')).toEqual([{ o: '0' }, { o: '3' }]);
    expect(await s.warehouse.read('SELECT service, reason, source_topic AS t, source_offset AS o FROM dead_letters ORDER BY source_offset')).toEqual([
      { service: 'sink', reason: 'unparseable', t: TOPICS.alerts, o: '1' },
      { service: 'sink', reason: 'schema_invalid', t: TOPICS.alerts, o: '2' },
    ]);
    const [bytes] = await s.warehouse.read("SELECT original_bytes AS b FROM dead_letters WHERE source_offset = '1'");
    expect(Buffer.from(bytes!.b!, 'base64').toString()).toBe('{not json');
  });

  it('an alert row the warehouse refuses (a column a DBA made narrower) lands as a warehouse_rejected dead letter, the rest of the batch lands', async () => {
    const { path, broker, config } = setup();
    // The alerts table as a DBA might have made it: news2 a 1-digit number.
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(MIGRATIONS.find((m) => m.version === 7)!.statements('duckdb')[0]!.replace('news2 INTEGER', 'news2 DECIMAL(1,0)'));
    c.closeSync();
    instance.closeSync();
    const s = service(config, broker);
    await s.start();
    const wide = makeAlert(1, { run: 'narrow' });
    wide.payload.news2 = 12;
    await new MemoryBus({ broker }).produce(TOPICS.alerts, [alertMessage(makeAlert(0, { run: 'narrow' })), alertMessage(wide), alertMessage(makeAlert(2, { run: 'narrow' }))]);
    await waitFor(() => s.processor()!.landedOffset(TOPICS.alerts, 0) === 2n, 20_000, 'all three past');
    expect(await s.warehouse.read('SELECT src_offset AS o FROM alerts ORDER BY src_offset')).toEqual([{ o: '0' }, { o: '2' }]);
    const [letter] = await s.warehouse.read('SELECT service, reason, error, source_offset AS o FROM dead_letters');
    expect(letter).toMatchObject({ service: 'sink', reason: 'warehouse_rejected', o: '1' });
    expect(letter!.error).toMatch(/the warehouse refused the row/);
  });
});
