// The sink's tables, in both dialects. Same names, same columns; Snowflake gets VARIANT
// where DuckDB gets JSON. The DDL is versioned: `sink_schema_migrations` records which
// steps ran, and every step is idempotent, so starting twice (or two sinks at once) is safe.
import type { DeadLetterRow, ScoreRow } from './types.js';

export type Dialect = 'duckdb' | 'snowflake';

type Logical = 'text' | 'timestamp' | 'double' | 'int' | 'bigint' | 'json';

export interface Column<R> {
  name: string;
  type: Logical;
  notNull?: boolean;
  /** The value the sink binds, as text (null for SQL NULL). */
  value: (row: R) => string | null;
}

const physical: Record<Dialect, Record<Logical, string>> = {
  duckdb: { text: 'VARCHAR', timestamp: 'TIMESTAMPTZ', double: 'DOUBLE', int: 'INTEGER', bigint: 'BIGINT', json: 'JSON' },
  snowflake: { text: 'VARCHAR', timestamp: 'TIMESTAMP_TZ', double: 'FLOAT', int: 'NUMBER(10,0)', bigint: 'NUMBER(20,0)', json: 'VARIANT' },
};

const num = (n: number | null) => (n === null ? null : String(n));

/** The columns the sink writes to `severity_scores` (plus `ingested_at`, set by the warehouse). */
export const SCORE_COLUMNS: readonly Column<ScoreRow>[] = [
  { name: 'score_id', type: 'text', notNull: true, value: (r) => r.scoreId },
  { name: 'event_id', type: 'text', notNull: true, value: (r) => r.eventId },
  { name: 'feature_event_id', type: 'text', value: (r) => r.featureEventId },
  { name: 'patient_id', type: 'text', notNull: true, value: (r) => r.patientId },
  { name: 'encounter_id', type: 'text', value: (r) => r.encounterId },
  { name: 'event_time', type: 'timestamp', notNull: true, value: (r) => r.eventTime },
  { name: 'scored_at', type: 'timestamp', notNull: true, value: (r) => r.scoredAt },
  { name: 'scoring_mode', type: 'text', value: (r) => r.mode },
  { name: 'probability', type: 'double', value: (r) => num(r.probability) },
  { name: 'band', type: 'text', notNull: true, value: (r) => r.band },
  { name: 'news2', type: 'int', value: (r) => num(r.news2) },
  { name: 'news2_band', type: 'text', value: (r) => r.news2Band },
  { name: 'model_name', type: 'text', value: (r) => r.modelName },
  { name: 'model_version', type: 'text', value: (r) => r.modelVersion },
  { name: 'features', type: 'json', value: (r) => r.features },
  { name: 'top_features', type: 'json', value: (r) => r.topFeatures },
  { name: 'latency_ms', type: 'double', value: (r) => num(r.latencyMs) },
  { name: 'unit', type: 'text', value: (r) => r.unit },
  { name: 'department', type: 'text', value: (r) => r.department },
  { name: 'src_cluster', type: 'text', notNull: true, value: (r) => r.srcCluster },
  { name: 'src_topic', type: 'text', notNull: true, value: (r) => r.srcTopic },
  { name: 'src_partition', type: 'int', notNull: true, value: (r) => String(r.srcPartition) },
  { name: 'src_offset', type: 'bigint', notNull: true, value: (r) => r.srcOffset },
  { name: 'src_timestamp', type: 'timestamp', value: (r) => r.srcTimestamp },
];

export const DEAD_LETTER_COLUMNS: readonly Column<DeadLetterRow>[] = [
  { name: 'dead_letter_id', type: 'text', notNull: true, value: (r) => r.deadLetterId },
  { name: 'service', type: 'text', notNull: true, value: (r) => r.service },
  { name: 'reason', type: 'text', notNull: true, value: (r) => r.reason },
  { name: 'error', type: 'text', value: (r) => r.error },
  { name: 'details', type: 'json', value: (r) => r.details },
  { name: 'source_topic', type: 'text', value: (r) => r.sourceTopic },
  { name: 'source_partition', type: 'int', value: (r) => num(r.sourcePartition) },
  { name: 'source_offset', type: 'bigint', value: (r) => r.sourceOffset },
  { name: 'original_event_id', type: 'text', value: (r) => r.originalEventId },
  { name: 'patient_id', type: 'text', value: (r) => r.patientId },
  { name: 'original_key', type: 'text', value: (r) => r.originalKey },
  { name: 'original_bytes', type: 'text', value: (r) => r.originalBytes },
  { name: 'produced_at', type: 'timestamp', notNull: true, value: (r) => r.producedAt },
  { name: 'src_cluster', type: 'text', notNull: true, value: (r) => r.srcCluster },
  { name: 'src_topic', type: 'text', notNull: true, value: (r) => r.srcTopic },
  { name: 'src_partition', type: 'int', notNull: true, value: (r) => String(r.srcPartition) },
  { name: 'src_offset', type: 'bigint', notNull: true, value: (r) => r.srcOffset },
];

export const TABLES = {
  scores: 'severity_scores',
  deadLetters: 'dead_letters',
  offsets: 'sink_offsets',
  migrations: 'sink_schema_migrations',
  latestView: 'severity_scores_latest',
} as const;

function tableDdl<R>(dialect: Dialect, table: string, columns: readonly Column<R>[], cluster?: string): string {
  const t = physical[dialect];
  const defs = columns.map((c) => `${c.name} ${t[c.type]}${c.notNull ? ' NOT NULL' : ''}`);
  defs.push(`ingested_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP`);
  const clusterBy = dialect === 'snowflake' && cluster ? ` CLUSTER BY (${cluster})` : '';
  return `CREATE TABLE IF NOT EXISTS ${table} (${defs.join(', ')})${clusterBy}`;
}

export interface Migration {
  version: number;
  description: string;
  statements: (dialect: Dialect) => string[];
}

/** Append only: a released step never changes; a new column is a new step. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'severity_scores, dead_letters, sink_offsets',
    statements: (d) => {
      const t = physical[d];
      return [
        tableDdl(d, TABLES.scores, SCORE_COLUMNS, 'TO_DATE(event_time)'),
        tableDdl(d, TABLES.deadLetters, DEAD_LETTER_COLUMNS, 'TO_DATE(produced_at)'),
        `CREATE TABLE IF NOT EXISTS ${TABLES.offsets} (cluster_id ${t.text} NOT NULL, topic ${t.text} NOT NULL, partition_id ${t.int} NOT NULL, ` +
          `last_offset ${t.bigint} NOT NULL, updated_at ${t.timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (cluster_id, topic, partition_id))`,
      ];
    },
  },
  {
    version: 2,
    description: 'severity_scores_latest: the latest score of every patient',
    statements: () => [
      `CREATE OR REPLACE VIEW ${TABLES.latestView} AS SELECT * FROM ${TABLES.scores} ` +
        `QUALIFY ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY event_time DESC, scored_at DESC, score_id DESC) = 1`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export const migrationsTableDdl = (d: Dialect): string =>
  `CREATE TABLE IF NOT EXISTS ${TABLES.migrations} (version ${physical[d].int} NOT NULL, description ${physical[d].text}, applied_at ${physical[d].timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP)`;

/** SQL expression turning a bound text value into the column's type. */
function fromText(dialect: Dialect, type: Logical, expr: string): string {
  switch (type) {
    case 'text':
      return expr;
    case 'timestamp':
      return dialect === 'snowflake' ? `TO_TIMESTAMP_TZ(${expr})` : `CAST(${expr} AS TIMESTAMPTZ)`;
    case 'json':
      return dialect === 'snowflake' ? `PARSE_JSON(${expr})` : `CAST(${expr} AS JSON)`;
    default:
      return `CAST(${expr} AS ${physical[dialect][type]})`;
  }
}

/**
 * The INSERT that lands a batch: typed from text, and skipping ids already in the table
 * (an upstream re-emission of the same score lands once). The match is also on the
 * event/produced time, so the warehouse prunes by it (Snowflake clusters by its date).
 *
 * Snowflake: one statement with array binds, `SELECT ?, PARSE_JSON(?) …` (PARSE_JSON is
 * not allowed in a VALUES clause there). DuckDB: from a staging table the appender filled.
 */
export function insertSql<R>(
  dialect: Dialect,
  table: string,
  columns: readonly Column<R>[],
  idColumn: string,
  timeColumn: string,
  /** Staging table to read from, or null for bind placeholders. */
  source: string | null,
): string {
  const names = columns.map((c) => c.name).join(', ');
  const typed =
    source === null
      ? columns.map((c) => `${fromText(dialect, c.type, '?')} AS ${c.name}`).join(', ')
      : columns.map((c) => `${fromText(dialect, c.type, c.name)} AS ${c.name}`).join(', ');
  const from = source === null ? `(SELECT ${typed}) s` : `(SELECT ${typed} FROM ${source}) s`;
  return (
    `INSERT INTO ${table} (${names}, ingested_at) SELECT ${columns.map((c) => `s.${c.name}`).join(', ')}, CURRENT_TIMESTAMP FROM ${from} ` +
    `WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.${idColumn} = s.${idColumn} AND t.${timeColumn} = s.${timeColumn})`
  );
}

export const scoresInsertSql = (d: Dialect, source: string | null) => insertSql(d, TABLES.scores, SCORE_COLUMNS, 'score_id', 'event_time', source);
export const deadLettersInsertSql = (d: Dialect, source: string | null) =>
  insertSql(d, TABLES.deadLetters, DEAD_LETTER_COLUMNS, 'dead_letter_id', 'produced_at', source);

/** Guarded move of a partition's offset: changes one row only if it still holds `expected`. */
export const advanceOffsetSql = `UPDATE ${TABLES.offsets} SET last_offset = CAST(? AS ${'BIGINT'}), updated_at = CURRENT_TIMESTAMP WHERE cluster_id = ? AND topic = ? AND partition_id = CAST(? AS INTEGER) AND last_offset = CAST(? AS BIGINT)`;

/** First offset of a partition: inserts its row only if there is none. */
export const firstOffsetSql = (d: Dialect) =>
  `MERGE INTO ${TABLES.offsets} t USING (SELECT ? AS cluster_id, ? AS topic, CAST(? AS ${physical[d].int}) AS partition_id, CAST(? AS ${physical[d].bigint}) AS last_offset) s ` +
  `ON t.cluster_id = s.cluster_id AND t.topic = s.topic AND t.partition_id = s.partition_id ` +
  `WHEN NOT MATCHED THEN INSERT (cluster_id, topic, partition_id, last_offset, updated_at) VALUES (s.cluster_id, s.topic, s.partition_id, s.last_offset, CURRENT_TIMESTAMP)`;

export const landedOffsetsSql = `SELECT partition_id, last_offset FROM ${TABLES.offsets} WHERE cluster_id = ? AND topic = ?`;

export const bindRow = <R>(columns: readonly Column<R>[], row: R): (string | null)[] => columns.map((c) => c.value(row));
