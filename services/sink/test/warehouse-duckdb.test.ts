// The warehouse contract against the embedded DuckDB warehouse (a file per test).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger } from '@ehr/runtime';
import { TOPICS } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse, MIGRATIONS, migrationsTableDdl, OffsetConflictError } from '../src/index.js';
import { DUCKDB_ROW_GROUP_SIZE } from '../src/warehouse/duckdb.js';
import { SCORE_TIME_COLUMN, scoresInsertSql, stagedTimeRangeSql } from '../src/warehouse/schema.js';
import { fillScores, scoreBatch, tempDir, waitFor } from './helpers.js';
import { warehouseContract } from './warehouse-contract.js';

const logger = createLogger({ service: 'sink', level: 'silent' });
const { dir, cleanup } = tempDir();
afterAll(cleanup);
let files = 0;

warehouseContract('DuckDB', () => ({
  async open(options) {
    const path = join(dir, `w-${files++}.duckdb`);
    if (options?.strictNews2) {
      // The table as a DBA might have made it: news2 a 1-digit number.
      const instance = await DuckDBInstance.create(path);
      const c = await instance.connect();
      await c.run(MIGRATIONS[0]!.statements('duckdb')[0]!.replace('news2 INTEGER', 'news2 DECIMAL(1,0)'));
      c.closeSync();
      instance.closeSync();
    }
    const warehouse = new DuckDbWarehouse({ path, logger });
    await warehouse.init();
    return {
      warehouse,
      // One file, one process: the second writer is the same warehouse (its one connection serializes writes).
      another: async () => warehouse,
      outage: async () => {
        await warehouse.close();
        rmSync(path, { force: true });
      },
    };
  },
  jsonNumber: (column, key) => `CAST(${column}->>'${key}' AS DOUBLE)`,
  jsonFirstText: (column, key) => `${column}->0->>'${key}'`,
}));


describe('DuckDB warehouse crash', () => {
  it('opens again after the process is killed with SIGKILL right after migrating and landing (DuckDB replays its WAL)', async () => {
    const path = join(dir, 'killed.duckdb');
    const index = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
    // The whole life of a first start, in a process of its own: migrate, land three batches, then wait to be killed.
    const script = `
      const { DuckDbWarehouse } = await import(${JSON.stringify(index)});
      const { createLogger } = await import('@ehr/runtime');
      const w = new DuckDbWarehouse({ path: ${JSON.stringify(path)}, logger: createLogger({ service: 'sink', level: 'silent' }) });
      await w.init();
      const row = (i) => ({ scoreId: 's' + i, eventId: 'e' + i, featureEventId: 'f' + i, patientId: 'p', encounterId: null, eventTime: '2025-01-01T00:00:00Z', scoredAt: '2025-01-01T00:00:00Z',
        mode: 'model', probability: 0.5, band: 'medium', news2: 3, news2Band: 'low_medium', modelName: null, modelVersion: null, features: '{}', topFeatures: '[]', latencyMs: 1,
        unit: null, department: null, srcCluster: 'c', srcTopic: 't', srcPartition: 0, srcOffset: String(i), srcTimestamp: '2025-01-01T00:00:00Z', bandSource: 'model', bandReason: null });
      for (let b = 0; b < 3; b++) await w.land({ cluster: 'c', topic: 't', partition: 0, expectedLastOffset: BigInt(b * 10 - 1), firstOffset: BigInt(b * 10), lastOffset: BigInt(b * 10 + 9), records: 10, scores: Array.from({ length: 10 }, (_, k) => row(b * 10 + k)), deadLetters: [] });
      process.stdout.write('landed\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('landed') || child.exitCode !== null, 60_000, 'the child to land');
    expect(out).toContain('landed');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    try {
      expect((await w.landedOffsets('c', 't')).get(0)).toBe(29n);
      expect(await w.read('SELECT COUNT(*) AS n FROM severity_scores')).toEqual([{ n: '30' }]);
    } finally {
      await w.close();
    }
  });
});

describe('DuckDB warehouse migrations', () => {
  it('migrates a file from schema version 3 (offsets as an append-only log) to the partition rows without losing an offset', async () => {
    const path = join(dir, 'v3.duckdb');
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(migrationsTableDdl('duckdb'));
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      for (const sql of m.statements('duckdb')) await c.run(sql);
      await c.run(`INSERT INTO sink_schema_migrations (version, description) VALUES (${m.version}, 'old')`);
    }
    for (const [partition, last] of [
      [0, 20],
      [0, 41],
      [1, 7],
    ]) {
      await c.run(`INSERT INTO sink_offset_log (cluster_id, topic, partition_id, last_offset, records) VALUES ('cluster-a', '${TOPICS.scores}', ${partition}, ${last}, 1)`);
    }
    c.closeSync();
    instance.closeSync();

    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    try {
      expect(await w.landedOffsets('cluster-a', TOPICS.scores)).toEqual(
        new Map([
          [0, 41n],
          [1, 7n],
        ]),
      );
      await expect(w.land(scoreBatch(0, 9, -1n))).rejects.toBeInstanceOf(OffsetConflictError);
      expect(await w.land(scoreBatch(42, 45, 41n))).toEqual({ scoresInserted: 4, deadLettersInserted: 0, alertsInserted: 0 });
      expect(await w.read('SELECT partition_id AS p, last_offset AS o FROM sink_offsets ORDER BY partition_id')).toEqual([
        { p: '0', o: '45' },
        { p: '1', o: '7' },
      ]);
      expect(await w.read('SELECT batches AS b FROM sink_partitions WHERE partition_id = 0')).toEqual([{ b: '3' }]);
      // The old log's lines moved to sink_batches, and the old table is gone.
      expect(await w.read('SELECT partition_id AS p, first_offset AS f, last_offset AS l FROM sink_batches ORDER BY partition_id, last_offset')).toEqual([
        { p: '0', f: null, l: '20' },
        { p: '0', f: null, l: '41' },
        { p: '0', f: '42', l: '45' },
        { p: '1', f: null, l: '7' },
      ]);
      await expect(w.read('SELECT COUNT(*) AS n FROM sink_offset_log')).rejects.toThrow(/sink_offset_log/);
    } finally {
      await w.close();
    }
  });
});

// A checkpoint rewrites each table's open row group whole: with DuckDB's default of 122,880
// rows its stall grew with the table and held every partition's next write (duckdb.ts,
// DUCKDB_ROW_GROUP_SIZE). The size is an ATTACH option, so it only holds if the file is attached.
describe('DuckDB warehouse row groups', () => {
  it(`stores scores in row groups of at most ${DUCKDB_ROW_GROUP_SIZE} rows, and leaves no WAL behind on close`, async () => {
    const path = join(dir, 'row-groups.duckdb');
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    const rows = DUCKDB_ROW_GROUP_SIZE * 2 + 500;
    for (let from = 0; from < rows; from += 1000) await w.land(scoreBatch(from, Math.min(from + 999, rows - 1), BigInt(from - 1)));
    await w.close();
    expect(existsSync(`${path}.wal`)).toBe(false);

    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const c = await instance.connect();
    try {
      const groups = (
        await c.runAndReadAll(`SELECT row_group_id, SUM(count) AS n FROM pragma_storage_info('severity_scores') WHERE column_name = 'score_id' AND segment_type <> 'VALIDITY' GROUP BY row_group_id ORDER BY row_group_id`)
      ).getRows();
      const sizes = groups.map((g) => Number(g[1]));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(rows);
      expect(groups.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(DUCKDB_ROW_GROUP_SIZE);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('refuses a row group size DuckDB would not take', async () => {
    const w = new DuckDbWarehouse({ path: join(dir, 'bad-size.duckdb'), logger, rowGroupSize: 1000 });
    await expect(w.init()).rejects.toThrow(/row group size must be divisible by the vector size \(2048\)/);
  });
});

describe('DuckDB warehouse re-emission lookup', () => {
  it("reads only the row groups of the batch's own time range when it looks its score ids up in the table", async () => {
    const path = join(dir, 'lookup.duckdb');
    const w = new DuckDbWarehouse({ path, logger });
    await w.init();
    // 10,000 scores a second apart (five row groups), as a live feed leaves them.
    await fillScores(w, 10_000, Date.UTC(2025, 0, 1));
    // A batch in the sink's staging table: the five latest scores again, and five new ones at their times.
    const stage = 'sink_stage_scores';
    const latest = `SELECT * EXCLUDE (ingested_at) FROM severity_scores ORDER BY event_time DESC LIMIT 5`;
    await w.read('BEGIN TRANSACTION');
    try {
      await w.read(`INSERT INTO ${stage} ${latest}`);
      await w.read(`INSERT INTO ${stage} SELECT * REPLACE (score_id || '-new' AS score_id) FROM (${latest})`);
      const range = Object.values((await w.read(stagedTimeRangeSql(stage, SCORE_TIME_COLUMN)))[0]!) as string[];
      const profile = join(dir, 'lookup-profile.json');
      await w.read(`SET enable_profiling = 'json'`);
      await w.read(`SET profiling_output = '${profile}'`);
      const [inserted] = await w.read(scoresInsertSql('duckdb', stage), range);
      await w.read('PRAGMA disable_profiling');
      expect(Number(Object.values(inserted!)[0])).toBe(5);
      // The staging table's 10 rows and the last row group or two, not the 10,000.
      const scanned = (JSON.parse(readFileSync(profile, 'utf8')) as { cumulative_rows_scanned: number }).cumulative_rows_scanned;
      expect(scanned).toBeGreaterThan(0);
      expect(scanned).toBeLessThanOrEqual(10 + 2 * DUCKDB_ROW_GROUP_SIZE);
    } finally {
      await w.read('ROLLBACK');
      await w.close();
    }
  });
});
