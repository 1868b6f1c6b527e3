// Throughput through the real snowflake-sdk: array-bind INSERT and MERGE at several batch
// sizes, against a DuckDB file. Run after a build: `npm run bench -w @ehr/snowflake-test-server`.
// Bounded: a fixed number of batches per size, loopback only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';
const snowflake = (await import('snowflake-sdk')).default;
snowflake.configure({ logLevel: 'OFF' });
const { startSnowflakeTestServer } = await import('../dist/index.js');

const SIZES = (process.env.BENCH_SIZES ?? '100,1000,5000').split(',').map(Number);
const ROWS_PER_SIZE = Number(process.env.BENCH_ROWS ?? 20000);

const COLUMNS = 'score_id, event_id, patient_id, encounter_id, event_time, scored_at, probability, band, news2, news2_band, model_version, features, top_features, latency_ms, src_topic, src_partition, src_offset';
const CREATE = `CREATE OR REPLACE TABLE severity_scores (score_id VARCHAR, event_id VARCHAR, patient_id VARCHAR, encounter_id VARCHAR, event_time TIMESTAMP_TZ, scored_at TIMESTAMP_TZ,
  probability FLOAT, band VARCHAR, news2 NUMBER(3,0), news2_band VARCHAR, model_version STRING, features VARIANT, top_features ARRAY, latency_ms NUMBER(12,3),
  src_topic VARCHAR, src_partition INTEGER, src_offset BIGINT, ingested_at TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP()) CLUSTER BY (TO_DATE(event_time))`;
const INSERT = `INSERT INTO severity_scores (${COLUMNS}) SELECT ?, ?, ?, ?, TO_TIMESTAMP_TZ(?), TO_TIMESTAMP_TZ(?), ?, ?, ?, ?, ?, PARSE_JSON(?), PARSE_JSON(?), ?, ?, ?, ?`;
const MERGE = `MERGE INTO severity_scores t USING (SELECT ? AS score_id, ? AS event_id, ? AS patient_id, ? AS encounter_id, TO_TIMESTAMP_TZ(?) AS event_time,
  TO_TIMESTAMP_TZ(?) AS scored_at, ? AS probability, ? AS band, ? AS news2, ? AS news2_band, ? AS model_version, PARSE_JSON(?) AS features,
  PARSE_JSON(?) AS top_features, ? AS latency_ms, ? AS src_topic, ? AS src_partition, ? AS src_offset) s ON t.event_id = s.event_id
WHEN MATCHED THEN UPDATE SET probability = s.probability, band = s.band, features = s.features
WHEN NOT MATCHED THEN INSERT (${COLUMNS}) VALUES (s.score_id, s.event_id, s.patient_id, s.encounter_id, s.event_time, s.scored_at, s.probability, s.band,
  s.news2, s.news2_band, s.model_version, s.features, s.top_features, s.latency_ms, s.src_topic, s.src_partition, s.src_offset)`;

function row(tag, offset) {
  const t = new Date(Date.UTC(2024, 0, 1) + offset * 1000).toISOString();
  return [`s-${tag}-${offset}`, `${tag}-${offset}`, `p-${offset % 997}`, `enc-${offset % 13}`, t, t, (offset % 100) / 100, offset % 2 ? 'high' : 'low', offset % 20, 'low', 'rf-1',
    JSON.stringify({ heart_rate: 60 + (offset % 40), resp_rate: 16, spo2: 97, temp: 37.1, sbp: 120, hr_delta_1h: -2.5, minutes_since_lab: 42 }),
    JSON.stringify([{ name: 'heart_rate', weight: 0.4 }, { name: 'spo2', weight: 0.2 }]), 1.25, 'ehr.scores.v1', 0, offset];
}

function exec(conn, sqlText, binds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: ${sqlText.slice(0, 40)}`)), 120_000);
    conn.execute({ sqlText, binds, complete: (err, stmt) => { clearTimeout(timer); err ? reject(err) : resolve(stmt); } });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'sf-bench-'));
const server = await startSnowflakeTestServer({ databasePath: join(dir, 'bench.duckdb'), users: { bench: 'bench-password' } });
const conn = await new Promise((resolve, reject) =>
  snowflake.createConnection({ account: 'bench', username: 'bench', password: 'bench-password', accessUrl: server.url, database: 'EHR', schema: 'PUBLIC' })
    .connect((err, c) => (err ? reject(err) : resolve(c))));

const results = [];
async function measure(label, size, sqlText, makeBatch) {
  const batches = Math.max(3, Math.ceil(ROWS_PER_SIZE / size));
  let rows = 0;
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) {
    const stmt = await exec(conn, sqlText, makeBatch(b));
    rows += stmt.getNumUpdatedRows();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  results.push({ label, size, batches, rows, secs: secs.toFixed(2), rowsPerSec: Math.round(rows / secs) });
}

for (const size of SIZES) {
  await exec(conn, CREATE);
  await measure('INSERT (array binds)', size, INSERT, (b) => Array.from({ length: size }, (_, k) => row('i', b * size + k)));
  await exec(conn, CREATE);
  await measure('MERGE, new keys', size, MERGE, (b) => Array.from({ length: size }, (_, k) => row('m', b * size + k)));
  await measure('MERGE, replayed keys', size, MERGE, (b) => Array.from({ length: size }, (_, k) => row('m', b * size + k)));
}
await new Promise((r) => conn.destroy(r));
await server.stop();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`| statement | batch size | batches | rows | seconds | rows/s |\n|---|---:|---:|---:|---:|---:|\n`);
for (const r of results) process.stdout.write(`| ${r.label} | ${r.size} | ${r.batches} | ${r.rows} | ${r.secs} | ${r.rowsPerSec} |\n`);
