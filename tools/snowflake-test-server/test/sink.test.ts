/**
 * The sink's SQL, as it would send it to Snowflake, through the real driver.
 */
import type { Connection } from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSnowflakeTestServer, type SnowflakeTestServer } from '../src/index.js';
import { connect, destroy, exec, execError, USERS } from './helpers.js';

const CREATE_SCORES = `
CREATE TABLE IF NOT EXISTS severity_scores (
  score_id      VARCHAR NOT NULL,
  event_id      VARCHAR NOT NULL,
  patient_id    VARCHAR NOT NULL,
  encounter_id  VARCHAR,
  event_time    TIMESTAMP_TZ NOT NULL,
  scored_at     TIMESTAMP_TZ NOT NULL,
  probability   FLOAT NOT NULL,
  band          VARCHAR(16) NOT NULL,
  news2         NUMBER(3,0),
  news2_band    VARCHAR(16),
  model_version STRING,
  features      VARIANT,
  top_features  ARRAY,
  latency_ms    NUMBER(12,3),
  src_topic     VARCHAR NOT NULL,
  src_partition INTEGER NOT NULL,
  src_offset    BIGINT NOT NULL,
  ingested_at   TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP()
) CLUSTER BY (TO_DATE(event_time))`;

const CREATE_OFFSETS = `
CREATE TABLE IF NOT EXISTS sink_offsets (
  topic VARCHAR NOT NULL, src_partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, updated_at TIMESTAMP_LTZ
)`;

const COLUMNS = 'score_id, event_id, patient_id, encounter_id, event_time, scored_at, probability, band, news2, news2_band, model_version, features, top_features, latency_ms, src_topic, src_partition, src_offset';

const INSERT_SQL = `INSERT INTO severity_scores (${COLUMNS})
  SELECT ?, ?, ?, ?, TO_TIMESTAMP_TZ(?), TO_TIMESTAMP_TZ(?), ?, ?, ?, ?, ?, PARSE_JSON(?), PARSE_JSON(?), ?, ?, ?, ?`;

const MERGE_SQL = `MERGE INTO severity_scores t USING (
  SELECT ? AS score_id, ? AS event_id, ? AS patient_id, ? AS encounter_id, TO_TIMESTAMP_TZ(?) AS event_time, TO_TIMESTAMP_TZ(?) AS scored_at,
         ? AS probability, ? AS band, ? AS news2, ? AS news2_band, ? AS model_version, PARSE_JSON(?) AS features, PARSE_JSON(?) AS top_features,
         ? AS latency_ms, ? AS src_topic, ? AS src_partition, ? AS src_offset
) s ON t.event_id = s.event_id
WHEN MATCHED THEN UPDATE SET probability = s.probability, band = s.band, features = s.features, scored_at = s.scored_at
WHEN NOT MATCHED THEN INSERT (${COLUMNS}) VALUES (s.score_id, s.event_id, s.patient_id, s.encounter_id, s.event_time, s.scored_at, s.probability, s.band,
  s.news2, s.news2_band, s.model_version, s.features, s.top_features, s.latency_ms, s.src_topic, s.src_partition, s.src_offset)`;

/** One scored event as the sink binds it: JSON goes as text, PARSE_JSON'd by the SQL. */
export function scoreRow(partition: number, offset: number, prefix = 'e'): unknown[] {
  const t = new Date(Date.UTC(2024, 0, 1) + offset * 1000).toISOString();
  return [
    `s-${prefix}-${partition}-${offset}`,
    `${prefix}-${partition}-${offset}`,
    `p-${offset % 97}`,
    offset % 3 === 0 ? null : `enc-${offset % 13}`,
    t,
    t,
    (offset % 100) / 100,
    offset % 2 === 0 ? 'low' : 'high',
    offset % 20,
    'low',
    'rf-1',
    JSON.stringify({ heart_rate: 60 + (offset % 40) + 0.5, spo2: 97, label: `x"${offset}` }),
    JSON.stringify([{ name: 'heart_rate', weight: 0.4 }]),
    1.25,
    'ehr.scores.v1',
    partition,
    offset,
  ];
}

let server: SnowflakeTestServer;
let c: Connection;
beforeAll(async () => {
  server = await startSnowflakeTestServer({ users: USERS });
  c = await connect(server.url);
  await exec(c, CREATE_SCORES);
  await exec(c, CREATE_OFFSETS);
  await exec(c, 'ALTER TABLE severity_scores ADD COLUMN IF NOT EXISTS dead_letter_reason VARCHAR');
});
afterAll(async () => {
  await destroy(c);
  await server.stop();
});

describe('severity_scores through the real driver', () => {
  test('array-bind INSERT of 1,000 rows with PARSE_JSON; getNumUpdatedRows() counts them', async () => {
    const rows = Array.from({ length: 1000 }, (_, k) => scoreRow(0, k, 'ins'));
    const { rows: result, stmt } = await exec(c, INSERT_SQL, rows);
    expect(stmt.getNumUpdatedRows()).toBe(1000);
    expect(result).toEqual([{ 'number of rows inserted': 1000 }]);
    const check = await exec(
      c,
      `SELECT COUNT(*) AS n, MAX(src_offset) AS max_offset, MAX(features:heart_rate::float) AS max_hr, MIN(features['spo2']::number) AS spo2
       FROM severity_scores WHERE event_id LIKE 'ins-%'`,
    );
    expect(check.rows).toEqual([{ N: 1000, MAX_OFFSET: 999, MAX_HR: 99.5, SPO2: 97 }]);
    const one = await exec(c, `SELECT features, top_features, features:label::string AS label, encounter_id FROM severity_scores WHERE event_id = 'ins-0-5'`);
    expect(one.rows[0]).toEqual({ FEATURES: { heart_rate: 65.5, spo2: 97, label: 'x"5' }, TOP_FEATURES: [{ name: 'heart_rate', weight: 0.4 }], LABEL: 'x"5', ENCOUNTER_ID: 'enc-5' });
  });

  test('MERGE on event id is idempotent: the same batch twice leaves the same rows', async () => {
    const batch = Array.from({ length: 500 }, (_, k) => scoreRow(1, k, 'mrg'));
    const first = await exec(c, MERGE_SQL, batch);
    expect(first.rows).toEqual([{ 'number of rows inserted': 500, 'number of rows updated': 0 }]);
    expect(first.stmt.getNumUpdatedRows()).toBe(500);
    const second = await exec(c, MERGE_SQL, batch);
    expect(second.rows).toEqual([{ 'number of rows inserted': 0, 'number of rows updated': 500 }]);
    const { rows } = await exec(c, `SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM severity_scores WHERE event_id LIKE 'mrg-%'`);
    expect(rows).toEqual([{ N: 500, D: 500 }]);
  });

  test('a single-row bind works too', async () => {
    const { stmt } = await exec(c, INSERT_SQL, scoreRow(2, 0, 'single'));
    expect(stmt.getNumUpdatedRows()).toBe(1);
  });

  test('commit is visible to another session, rollback is not', async () => {
    const other = await connect(server.url);
    const count = async (): Promise<unknown> => (await exec(other, `SELECT COUNT(*) AS n FROM severity_scores WHERE event_id LIKE 'tx-%'`)).rows[0]!.N;
    await exec(c, 'BEGIN TRANSACTION');
    await exec(c, INSERT_SQL, [scoreRow(3, 1, 'tx'), scoreRow(3, 2, 'tx')]);
    expect(await count()).toBe(0); // not committed yet
    await exec(c, 'COMMIT');
    expect(await count()).toBe(2);
    await exec(c, 'START TRANSACTION');
    await exec(c, INSERT_SQL, [scoreRow(3, 3, 'tx')]);
    await exec(c, 'ROLLBACK');
    expect(await count()).toBe(2);
    await destroy(other);
  });

  test('batch + guarded offset update in one transaction; a failed guard rolls the batch back', async () => {
    await exec(c, `INSERT INTO sink_offsets (topic, src_partition, next_offset, updated_at) VALUES ('ehr.scores.v1', 7, 0, CURRENT_TIMESTAMP())`);
    const writeBatch = async (expectedStart: number, n: number): Promise<boolean> => {
      await exec(c, 'BEGIN');
      try {
        const rows = Array.from({ length: n }, (_, k) => scoreRow(7, expectedStart + k, 'off'));
        await exec(c, INSERT_SQL, rows);
        const { stmt } = await exec(
          c,
          'UPDATE sink_offsets SET next_offset = ?, updated_at = CURRENT_TIMESTAMP() WHERE topic = ? AND src_partition = ? AND next_offset = ?',
          [expectedStart + n, 'ehr.scores.v1', 7, expectedStart],
        );
        if (stmt.getNumUpdatedRows() !== 1) {
          await exec(c, 'ROLLBACK');
          return false;
        }
        await exec(c, 'COMMIT');
        return true;
      } catch (err) {
        await exec(c, 'ROLLBACK');
        throw err;
      }
    };
    expect(await writeBatch(0, 100)).toBe(true);
    expect(await writeBatch(100, 50)).toBe(true);
    // a replay of an old batch (a zombie writer) fails the guard and lands nothing
    expect(await writeBatch(0, 100)).toBe(false);
    const { rows } = await exec(
      c,
      `SELECT (SELECT next_offset FROM sink_offsets WHERE src_partition = 7) AS next_offset, COUNT(*) AS n, COUNT(DISTINCT src_offset) AS d FROM severity_scores WHERE event_id LIKE 'off-%'`,
    );
    expect(rows).toEqual([{ NEXT_OFFSET: 150, N: 150, D: 150 }]);
  });

  test('UPDATE and DELETE report their counts', async () => {
    const u = await exec(c, `UPDATE severity_scores SET band = 'medium' WHERE event_id LIKE 'tx-%'`);
    expect(u.stmt.getNumUpdatedRows()).toBe(2);
    const d = await exec(c, `DELETE FROM severity_scores WHERE event_id LIKE 'single-%'`);
    expect(d.stmt.getNumUpdatedRows()).toBe(1);
    expect(d.rows).toEqual([{ 'number of rows deleted': 1 }]);
  });

  test('a NOT NULL violation and a bad VARIANT are refused with Snowflake codes', async () => {
    const bad = scoreRow(9, 1, 'bad');
    bad[1] = null;
    expect((await execError(c, INSERT_SQL, [bad])).code).toBe('100072');
    const badJson = scoreRow(9, 2, 'bad');
    badJson[11] = '{"unterminated": ';
    expect((await execError(c, INSERT_SQL, [badJson])).code).toBe('100069');
    expect((await execError(c, `INSERT INTO severity_scores (top_features) SELECT PARSE_JSON('{"not":"an array"}')`)).code).toMatch(/^(100072|002023)$/);
  });

  test('DuckDB-only upserts are refused even where DuckDB would accept them', async () => {
    const err = await execError(c, `INSERT INTO sink_offsets VALUES ('t', 1, 1, NULL) ON CONFLICT DO NOTHING`);
    expect(err.code).toBe('001003');
    expect(err.message).toContain("unexpected 'CONFLICT'");
  });
});
