import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger } from '@ehr/runtime';
import { TOPICS } from '@ehr/features';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDbWarehouse, LATEST_SCHEMA_VERSION, MIGRATIONS, migrationsTableDdl, OffsetConflictError, scoreRow, type LandBatch } from '../src/index.js';
import { makeScore, tempDir } from './helpers.js';

const logger = createLogger({ service: 'sink', level: 'silent' });

function batch(from: number, to: number, expected: bigint, run = 'r1'): LandBatch {
  const scores = [];
  for (let i = from; i <= to; i++) {
    const event = makeScore(i, { run });
    scores.push(
      scoreRow('cluster-a', { topic: TOPICS.scores, partition: 0, offset: String(i), key: event.patientId, value: Buffer.alloc(0), headers: {}, timestamp: Date.UTC(2025, 0, 1) }, event),
    );
  }
  return { cluster: 'cluster-a', topic: TOPICS.scores, partition: 0, expectedLastOffset: expected, lastOffset: BigInt(to), scores, deadLetters: [] };
}

async function query(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('DuckDB warehouse', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('creates and migrates its tables idempotently, and records the schema version', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'w.duckdb');
    for (let i = 0; i < 2; i++) {
      const w = new DuckDbWarehouse({ path, logger });
      await w.init();
      await w.close();
    }
    const versions = await query(path, 'SELECT version FROM sink_schema_migrations ORDER BY version');
    expect(versions.map((v) => Number(v.version))).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
    const columns = await query(path, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'severity_scores'");
    const types = Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]));
    for (const name of ['score_id', 'event_id', 'patient_id', 'encounter_id', 'event_time', 'scored_at', 'probability', 'band', 'news2', 'news2_band', 'model_version', 'features', 'top_features', 'latency_ms', 'src_topic', 'src_partition', 'src_offset', 'ingested_at']) {
      expect(types, name).toHaveProperty(name);
    }
    expect(types.features).toBe('JSON');
    expect(types.event_time).toBe('TIMESTAMP WITH TIME ZONE');
  });

  it('migrates a file from schema version 2 (one offsets row per partition) without losing its offsets', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'w.duckdb');
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(migrationsTableDdl('duckdb'));
    for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
      for (const sql of m.statements('duckdb')) await c.run(sql);
      await c.run(`INSERT INTO sink_schema_migrations (version, description) VALUES (${m.version}, 'old')`);
    }
    await c.run(`INSERT INTO sink_offsets (cluster_id, topic, partition_id, last_offset) VALUES ('cluster-a', '${TOPICS.scores}', 0, 41)`);
    c.closeSync();
    instance.closeSync();

    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(41n);
    await expect(w.land(batch(0, 9, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
    expect(await w.land(batch(42, 45, 41n))).toEqual({ scoresInserted: 4, deadLettersInserted: 0 });
    expect(await w.query('SELECT last_offset FROM sink_offsets')).toEqual([{ last_offset: '45' }]);
    await w.close();
  });

  it('lands a batch and its offset together, and refuses a batch cut from a stale offset', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'w.duckdb');
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    expect(await w.land(batch(0, 9, -1n))).toEqual({ scoresInserted: 10, deadLettersInserted: 0 });
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(9n);
    // The same batch again (a retried commit that had landed): refused, nothing written.
    await expect(w.land(batch(0, 9, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
    await expect(w.land(batch(5, 12, 4n))).rejects.toBeInstanceOf(OffsetConflictError);
    expect(await w.land(batch(10, 14, 9n))).toEqual({ scoresInserted: 5, deadLettersInserted: 0 });
    // Another cluster (a new in-memory bus) has its own offsets.
    expect((await w.landedOffsets('cluster-b', TOPICS.scores)).size).toBe(0);
    await w.close();
    const [row] = await query(path, 'SELECT count(*) AS n, count(DISTINCT score_id) AS ids, max(src_offset) AS last FROM severity_scores');
    expect(row).toEqual({ n: '15', ids: '15', last: '14' });
  });

  it('keeps the offset log short: superseded rows are dropped every 100 batches', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const w = new DuckDbWarehouse({ path: join(dir, 'w.duckdb'), logger });
    await w.init();
    for (let i = 0; i < 101; i++) await w.land(batch(i, i, BigInt(i - 1)));
    expect(await w.query('SELECT count(*) AS n, max(last_offset) AS last FROM sink_offset_log')).toEqual([{ n: '2', last: '100' }]);
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(100n);
    await w.close();
  });

  it('keeps one row per score id even when the same score arrives at another offset', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'w.duckdb');
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    await w.land(batch(0, 4, -1n));
    const again = batch(0, 4, 4n);
    expect(await w.land({ ...again, lastOffset: 9n })).toEqual({ scoresInserted: 0, deadLettersInserted: 0 });
    expect((await w.landedOffsets('cluster-a', TOPICS.scores)).get(0)).toBe(9n);
    await w.close();
    const [row] = await query(path, 'SELECT count(*) AS n FROM severity_scores');
    expect(row).toEqual({ n: '5' });
  });

  it('stores typed columns and JSON analysts can query, and a latest-score-per-patient view', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'w.duckdb');
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    await w.land(batch(0, 99, -1n));
    await w.close();
    const expected = makeScore(7);
    const [row] = await query(
      path,
      `SELECT probability, news2, band, features->>'heart_rate' AS hr, top_features->0->>'feature' AS top, epoch_ms(event_time) AS t FROM severity_scores WHERE score_id = '${expected.payload.scoreId}'`,
    );
    expect(row).toEqual({
      probability: expected.payload.probability,
      news2: expected.payload.news2,
      band: expected.payload.band,
      hr: String(expected.payload.features.heart_rate),
      top: 'heart_rate',
      t: String(Date.parse(expected.payload.eventTime)),
    });
    const latest = await query(path, 'SELECT patient_id, src_offset FROM severity_scores_latest ORDER BY patient_id');
    expect(latest).toHaveLength(50);
    expect(latest.find((r) => r.patient_id === 'p3')).toEqual({ patient_id: 'p3', src_offset: '53' });
  });
});
